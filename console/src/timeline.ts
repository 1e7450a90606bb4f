/** One request: what it is, where it stands, and everything that happened to it, in order; cancel or delete it. */
import { CANCELLABLE, DELETABLE } from '../../functions/contract/statuses.js';
import { type ApiError, type BusEvent, type Cluster, deleteCluster, eventsOf, getCluster } from './api';
import { announce, confirmAction } from './confirm';
import { h, replace, time } from './dom';
import { duration, instanceTypesOf, relative, timestamp, usd, whereOf } from './format';
import type { View } from './main';
import { statusBadge } from './requests';

interface Entry {
  at: string;
  kind: 'status' | 'attempt' | 'event' | 'error';
  title: string;
  detail?: string;
  /** How many identical entries in a row this one stands for, and the time of the last. */
  repeats?: { count: number; lastAt: string };
}

/**
 * A request that waits writes the same lines again and again (each skipped attempt, each WAITING_FOR_CAPACITY renewed
 * for the same reason): runs of identical lines become one, with how many and until when.
 */
const collapse = (entries: Entry[]): Entry[] => {
  const out: Entry[] = [];
  const same = (a: Entry | undefined, b: Entry) => a !== undefined && a.kind === b.kind && a.title === b.title && a.detail === b.detail;
  for (const e of entries) {
    // A waiting request's repeats alternate two lines (a skipped attempt, the wait renewed): look back two as well.
    const kept = same(out.at(-1), e) ? out.at(-1) : same(out.at(-2), e) ? out.at(-2) : undefined;
    if (kept) kept.repeats = { count: (kept.repeats?.count ?? 1) + 1, lastAt: e.at };
    else out.push({ ...e });
  }
  return out;
};

const placementText = (c: Cluster, index: number): string => {
  const p = c.placements?.[index];
  if (!p) return index === 0 ? 'the request’s own' : `alternative ${index}`;
  const where = p.provider === 'sagemaker' ? `sagemaker ${p.region}` : `tir ${p.location}`;
  return `${index === 0 ? 'own placement' : `alternative ${index}`}: ${where}`;
};

const entriesOf = (c: Cluster, events: BusEvent[]): Entry[] => {
  const out: Entry[] = [];
  for (const e of c.history) {
    out.push({ at: e.at, kind: 'status', title: `${e.from ? `${e.from} → ` : ''}${e.to}`, ...(e.reason ? { detail: e.reason } : {}) });
  }
  for (const a of c.attemptLog ?? []) {
    out.push({
      at: a.at,
      kind: 'attempt',
      title: `Attempt at ${a.where} (${placementText(c, a.placement)}): ${a.outcome}`,
      detail: a.reason,
    });
  }
  for (const e of events) {
    const status = typeof e.Detail.status === 'string' ? ` (${e.Detail.status})` : '';
    out.push({ at: e.Time, kind: 'event', title: `Event: ${e.DetailType}${status}` });
  }
  const err = c.lastError;
  if (err) {
    const next = err.nextAttemptAt ? `; next attempt by ${timestamp(err.nextAttemptAt)}` : '';
    out.push({
      at: err.at,
      kind: 'error',
      title: `Last error: ${err.name}${err.attempt ? ` (attempt ${err.attempt})` : ''}`,
      detail: `${err.message}${err.reason ? ` [${err.reason}]` : ''}${next}`,
    });
  }
  // Oldest first; a status change before what happened at the same instant.
  const order = { status: 0, attempt: 1, error: 2, event: 3 };
  return collapse(out.sort((a, b) => a.at.localeCompare(b.at) || order[a.kind] - order[b.kind]));
};

const field = (label: string, ...value: Array<Node | string>) => h('div', {}, h('dt', {}, label), h('dd', {}, ...value));

export const renderTimeline = (main: HTMLElement, requestId: string): View => {
  const heading = h('h2', { tabindex: -1 }, 'Request ', h('span', { class: 'mono' }, requestId));
  const problem = h('div');
  const summary = h('dl', { class: 'summary', id: 'summary' });
  const actions = h('div', { class: 'actions', id: 'actions' });
  const list = h('ol', { class: 'timeline', id: 'timeline' });
  main.append(
    h('p', {}, h('a', { href: '#/requests' }, '← All requests')),
    heading,
    problem,
    summary,
    actions,
    h('h3', {}, 'Timeline'),
    list,
  );
  let lastStatus: string | undefined;
  let busy = false;

  const act = async (c: Cluster, cancel: boolean) => {
    const ok = await confirmAction(
      cancel ? 'Cancel this request?' : 'Delete this cluster?',
      cancel
        ? `${c.requestId} stops waiting and retrying; any cluster it made is deleted. This cannot be undone.`
        : `The cluster ${c.clusterName} of ${c.requestId} is deleted at ${c.provider}. This cannot be undone.`,
      cancel ? 'Cancel request' : 'Delete cluster',
    );
    if (!ok) return;
    busy = true;
    try {
      const answer = await deleteCluster(c.requestId);
      announce(`${cancel ? 'Cancelled' : 'Deleting'} ${c.requestId}: ${answer.status}`);
    } catch (err) {
      replace(
        problem,
        h('p', { class: 'error', role: 'alert' }, `Could not ${cancel ? 'cancel' : 'delete'}: ${(err as ApiError).message}`),
      );
    } finally {
      busy = false;
    }
    await view.refresh();
  };

  const draw = (c: Cluster, events: BusEvent[] | undefined) => {
    const now = Date.now();
    const err = c.lastError;
    const waiting = c.status === 'WAITING_FOR_CAPACITY';
    replace(
      summary,
      field('Status', statusBadge(c.status)),
      field(
        'Provider',
        `${c.provider} ${c.provider === 'sagemaker' ? (c.region ?? '') : `${c.location ?? ''} (project ${c.projectId ?? '?'})`}`,
      ),
      field('Cluster', h('span', { class: 'mono' }, c.clusterName)),
      field('Instance types', instanceTypesOf(c).join(', ')),
      field('Attempts', `${c.attempts}${c.maxAttempts ? ` of at most ${c.maxAttempts}` : ''}${c.rounds ? ` · ${c.rounds} rounds` : ''}`),
      c.placements && c.placements.length > 1 && field('Placement', placementText(c, c.placement ?? 0), ` (of ${c.placements.length})`),
      c.landed && field('Landed', whereOf({ provider: c.landed.provider, landed: c.landed })),
      waiting && err?.reason && field('Waiting for', err.reason === 'capacity' ? 'capacity (the provider is short)' : err.reason),
      waiting && err?.nextAttemptAt && field('Next attempt', 'by ', time(err.nextAttemptAt, relative(err.nextAttemptAt, now))),
      c.retryUntil && field('Retries until', time(c.retryUntil, `${timestamp(c.retryUntil)} (${relative(c.retryUntil, now)})`)),
      c.providerStatus &&
        field('Provider status', `${c.providerStatus}${c.nodes ? ` · ${c.nodes.current} of ${c.nodes.target} nodes` : ''}`),
      c.providerId && field('Provider id', h('span', { class: 'mono' }, c.providerId)),
      field('Accepted', time(c.acceptedAt, `${timestamp(c.acceptedAt)} (${duration(now - Date.parse(c.acceptedAt))} ago)`)),
      c.readyAt && field('Ready', time(c.readyAt, timestamp(c.readyAt))),
      field(
        'Cost so far',
        c.cost
          ? `${usd(c.cost.sinceReadyUsd)} at ${usd(c.cost.usdPerHour)}/h`
          : c.readyAt
            ? 'no price for these instances'
            : 'nothing yet (counted from READY)',
      ),
      c.cost && field('Prices from', h('span', { class: 'source' }, `${c.cost.source}${c.cost.asOf ? `, ${c.cost.asOf}` : ''}`)),
      c.zoneHint &&
        field(
          'Zones with capacity',
          `${c.zoneHint.zones.join(', ')} (EC2, ${timestamp(c.zoneHint.at)}${c.zoneHint.shortIn ? `; short in ${c.zoneHint.shortIn}` : ''})`,
        ),
      c.reservedOffers &&
        field(
          'Reserved capacity',
          c.reservedOffers.suggestions.length === 0
            ? `none offered for the rest of the horizon (looked ${timestamp(c.reservedOffers.at)})`
            : h(
                'ul',
                { class: 'offers', id: 'reserved-offers' },
                ...c.reservedOffers.suggestions.map((o) =>
                  h(
                    'li',
                    { 'data-offering': o.offeringId },
                    `${o.instanceCount} × ${o.instanceType} in ${o.availabilityZone ?? o.where}, from ${o.start ? timestamp(o.start) : 'now'} for ${o.durationHours} h: ` +
                      `${o.upfrontFee !== undefined ? `${o.upfrontFee.toFixed(2)} ${o.currency ?? 'USD'} upfront` : 'fee not stated'}` +
                      `${o.onDemand ? ` (on demand ${usd(o.onDemand.usd)})` : ''} — not bought; offering ${o.offeringId}`,
                    h(
                      'div',
                      { class: 'source' },
                      `${o.source}, ${o.asOf}${o.onDemand ? `; on-demand price: ${o.onDemand.source}, ${o.onDemand.asOf}` : ''}`,
                    ),
                  ),
                ),
              ),
        ),
    );
    const cancellable = (CANCELLABLE as readonly string[]).includes(c.status) || c.status === 'SCHEDULED';
    const deletable = (DELETABLE as readonly string[]).includes(c.status);
    replace(
      actions,
      cancellable &&
        h(
          'button',
          { type: 'button', class: 'danger', 'data-key': 'cancel', disabled: busy, onclick: () => void act(c, true) },
          'Cancel request',
        ),
      deletable &&
        h(
          'button',
          { type: 'button', class: 'danger', 'data-key': 'delete', disabled: busy, onclick: () => void act(c, false) },
          'Delete cluster',
        ),
      !cancellable &&
        !deletable &&
        h('p', { class: 'notice' }, c.status === 'DELETED' ? 'Deleted: nothing left to do.' : 'Nothing to do while it is deleting.'),
    );
    replace(
      list,
      ...entriesOf(c, events ?? []).map((e) =>
        h(
          'li',
          { class: `k-${e.kind}` },
          h('span', { class: 'when' }, time(e.at, timestamp(e.at))),
          ' ',
          h('span', { class: 'kind' }, e.title),
          e.repeats && h('span', { class: 'when' }, ` × ${e.repeats.count}, the last at ${timestamp(e.repeats.lastAt)}`),
          e.detail && h('div', {}, e.detail),
        ),
      ),
      events === undefined &&
        h('li', { class: 'k-event' }, h('span', { class: 'when' }, 'events'), ' ', 'This API does not serve bus events; see EventBridge.'),
    );
    if (lastStatus && lastStatus !== c.status) announce(`${c.requestId} is now ${c.status}`);
    lastStatus = c.status;
  };

  const view: View = {
    async refresh() {
      if (busy) return;
      try {
        const [c, events] = await Promise.all([getCluster(requestId), eventsOf(requestId)]);
        replace(problem);
        draw(c, events);
      } catch (err) {
        const e = err as ApiError;
        replace(
          problem,
          h(
            'p',
            { class: 'error', role: 'alert' },
            e.status === 404 ? `No request ${requestId} (or not yours).` : `Could not read the request: ${e.message}`,
          ),
        );
      }
    },
  };
  return view;
};
