/** The capacity map: offerings remembered as short (from GET /offerings), and the totals of what runs now. */
import { listClusters, listShortOfferings, type ApiError } from './api';
import { h, replace, time } from './dom';
import { relative, timestamp, usd } from './format';
import { totalsOf } from './format';
import type { View } from './main';

export const renderCapacity = (main: HTMLElement): View => {
  const totals = h('dl', { class: 'totals', id: 'totals' });
  const problem = h('div');
  const body = h('tbody');
  const empty = h(
    'p',
    { class: 'notice', id: 'no-shortage', hidden: true },
    'No offering is remembered as short: every request calls its provider.',
  );
  main.append(
    h('h2', { tabindex: -1 }, 'Capacity'),
    problem,
    h('h3', {}, 'Running now'),
    totals,
    h('h3', { id: 'short-heading' }, 'Offerings remembered as short'),
    h(
      'p',
      {},
      'Requests skip these without calling the provider until the memory runs out; then one request probes each (state probing) while the others wait.',
    ),
    empty,
    h(
      'table',
      { class: 'cards', id: 'offerings', 'aria-labelledby': 'short-heading' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Provider', 'Region or location', 'Instance type', 'State', 'Since', 'Until', 'Reason'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      body,
    ),
  );

  return {
    async refresh() {
      try {
        const [offerings, clusters] = await Promise.all([listShortOfferings(), listClusters({})]);
        replace(problem);
        const now = Date.now();
        const t = totalsOf(clusters.items, now);
        const stat = (label: string, value: string, id: string) => h('div', {}, h('dt', {}, label), h('dd', { id }, value));
        replace(
          totals,
          stat('Clusters running', String(t.running), 'total-running'),
          stat('Instances', String(t.instances), 'total-instances'),
          stat('Instance-hours', t.instanceHours < 10 ? t.instanceHours.toFixed(3) : t.instanceHours.toFixed(1), 'total-instance-hours'),
          stat('Spend rate', `${usd(t.usdPerHour)}/h`, 'total-rate'),
          stat('Cost so far', `${usd(t.runningUsd)}${t.unpriced ? ` + ${t.unpriced} unpriced` : ''}`, 'total-cost'),
        );
        empty.hidden = offerings.items.length > 0;
        replace(
          body,
          ...offerings.items.map((o) =>
            h(
              'tr',
              { 'data-offering': o.offering },
              h('td', { 'data-label': 'Provider' }, o.provider),
              h('td', { 'data-label': 'Where' }, o.region ?? o.location ?? ''),
              h('td', { 'data-label': 'Instance type', class: 'mono nowrap' }, o.instanceType),
              h('td', { 'data-label': 'State' }, h('span', { class: `badge st-${o.state}` }, o.state)),
              h('td', { 'data-label': 'Since' }, o.since ? time(o.since, `${timestamp(o.since)} (${relative(o.since, now)})`) : '—'),
              h('td', { 'data-label': 'Until' }, time(o.until, `${timestamp(o.until)} (${relative(o.until, now)})`)),
              h('td', { 'data-label': 'Reason' }, o.reason ?? ''),
            ),
          ),
        );
      } catch (err) {
        replace(problem, h('p', { class: 'error', role: 'alert' }, `Could not read the capacity: ${(err as ApiError).message}`));
      }
    },
  };
};
