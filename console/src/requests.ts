/** The list of requests: status, provider, where, instance types, age, cost so far; filters; live. */
import { STATUSES } from '../../functions/contract/statuses.js';
import { PROVIDERS } from '../../functions/contract/providers.js';
import { type ApiError, listClusters, type Cluster } from './api';
import { h, replace, time } from './dom';
import { duration, instanceTypesOf, usd, whereOf } from './format';
import type { View } from './main';

/** The filters survive a visit to a timeline and back. */
const filters = { status: '', provider: '', text: '' };

const matches = (c: Cluster, text: string): boolean => {
  if (!text) return true;
  const haystack = [c.requestId, c.clusterName, c.status, c.provider, whereOf(c), ...instanceTypesOf(c)].join(' ').toLowerCase();
  return text
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
};

export const statusBadge = (status: string): HTMLElement => h('span', { class: `badge s-${status}` }, status);

const costCell = (c: Cluster): string => {
  if (c.cost) return `${usd(c.cost.sinceReadyUsd)} (${usd(c.cost.usdPerHour)}/h)`;
  return c.readyAt ? 'no price' : '—';
};

export const renderRequests = (main: HTMLElement): View => {
  const select = (id: string, label: string, values: readonly string[], key: 'status' | 'provider') =>
    h(
      'label',
      { for: id },
      label,
      h(
        'select',
        {
          id,
          onchange: (e: Event) => {
            filters[key] = (e.target as HTMLSelectElement).value;
            void view.refresh();
          },
        },
        h('option', { value: '' }, 'Any'),
        ...values.map((v) => h('option', { value: v, selected: filters[key] === v }, v)),
      ),
    );
  const search = h('input', {
    id: 'filter-text',
    type: 'search',
    value: filters.text,
    placeholder: 'request id, cluster, region, instance type',
    oninput: (e: Event) => {
      filters.text = (e.target as HTMLInputElement).value;
      draw();
    },
  });
  const count = h('p', { class: 'count', id: 'request-count', 'aria-live': 'polite' });
  const body = h('tbody');
  const problem = h('div');
  main.append(
    h('h2', { tabindex: -1 }, 'Requests'),
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter requests', onsubmit: (e: Event) => e.preventDefault() },
      select('filter-status', 'Status', STATUSES, 'status'),
      select('filter-provider', 'Provider', PROVIDERS, 'provider'),
      h('label', { for: 'filter-text' }, 'Text', search),
    ),
    problem,
    count,
    h(
      'table',
      { class: 'cards', id: 'requests' },
      h('caption', { class: 'visually-hidden' }, 'Requests, newest first'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Request', 'Status', 'Provider', 'Region or location', 'Instance types', 'Age', 'Cost so far'].map((t) =>
            h('th', { scope: 'col', class: t === 'Cost so far' || t === 'Age' ? 'num' : undefined }, t),
          ),
        ),
      ),
      body,
    ),
  );

  let items: Cluster[] = [];
  let more = false;
  const draw = () => {
    const now = Date.now();
    const shown = items.filter((c) => matches(c, filters.text));
    count.textContent = `${shown.length} of ${items.length}${more ? '+' : ''} requests`;
    replace(
      body,
      ...shown.map((c) =>
        h(
          'tr',
          { 'data-request': c.requestId },
          h(
            'td',
            { 'data-label': 'Request' },
            h('a', { href: `#/requests/${encodeURIComponent(c.requestId)}`, class: 'mono', 'data-key': c.requestId }, c.requestId),
          ),
          h('td', { 'data-label': 'Status' }, statusBadge(c.status)),
          h('td', { 'data-label': 'Provider' }, c.provider),
          h('td', { 'data-label': 'Where' }, whereOf(c)),
          h('td', { 'data-label': 'Instances' }, instanceTypesOf(c).join(', ')),
          h('td', { 'data-label': 'Age', class: 'num' }, time(c.acceptedAt, duration(now - Date.parse(c.acceptedAt)))),
          h('td', { 'data-label': 'Cost so far', class: 'num' }, costCell(c)),
        ),
      ),
    );
  };

  const view: View = {
    async refresh() {
      try {
        const page = await listClusters({ status: filters.status, provider: filters.provider });
        items = page.items;
        more = page.more;
        replace(problem);
      } catch (err) {
        replace(problem, h('p', { class: 'error', role: 'alert' }, `Could not list the requests: ${(err as ApiError).message}`));
      }
      draw();
    },
  };
  return view;
};
