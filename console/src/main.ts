/**
 * The console: three views over the provisioner's HTTP API, routed by the URL's fragment.
 *   #/requests            every request, filtered by status, provider and text, refreshed live
 *   #/requests/<id>       one request's timeline, with cancel / delete
 *   #/capacity            the offerings remembered as short, and the totals of what runs
 * Live updates poll every few seconds (`?poll=<ms>` in the page's address sets another period, from 250 ms) and stop
 * while the tab is hidden or the user pauses them.
 */
import { renderCapacity } from './capacity';
import { renderRequests } from './requests';
import { renderTimeline } from './timeline';

export interface View {
  /** Fetches and draws the view's data; called at once and at every tick. */
  refresh(): Promise<void>;
}

const DEFAULT_POLL_MS = 3000;
const pollMs = (() => {
  const asked = Number(new URLSearchParams(location.search).get('poll'));
  return Number.isFinite(asked) && asked >= 250 ? asked : DEFAULT_POLL_MS;
})();

const main = document.getElementById('main')!;
const liveState = document.getElementById('live-state')!;
const liveToggle = document.getElementById('live-toggle') as HTMLButtonElement;

let view: View | undefined;
let timer: number | undefined;
let pausedByUser = false;
let running: Promise<void> | undefined;

const setLive = (text: string) => {
  if (liveState.textContent !== text) liveState.textContent = text;
};

const tick = async (): Promise<void> => {
  window.clearTimeout(timer);
  timer = undefined;
  const current = view;
  if (!current) return;
  running = current.refresh();
  try {
    await running;
  } finally {
    running = undefined;
  }
  if (current !== view) return;
  if (document.hidden) setLive('Paused while the tab is hidden');
  else if (pausedByUser) setLive('Updates paused');
  else {
    setLive(`Live · every ${pollMs / 1000} s · updated ${new Date().toISOString().slice(11, 19)} UTC`);
    timer = window.setTimeout(() => void tick(), pollMs);
  }
};

/** Draws the view the fragment names, moving focus to its heading (as a page load would). */
const route = (moveFocus: boolean): void => {
  const hash = location.hash || '#/requests';
  const detail = /^#\/requests\/(.+)$/.exec(hash);
  const name = detail ? 'requests' : hash.startsWith('#/capacity') ? 'capacity' : 'requests';
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a[data-view]')) {
    if (link.dataset.view === name && !detail) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  main.replaceChildren();
  view = detail ? renderTimeline(main, decodeURIComponent(detail[1]!)) : name === 'capacity' ? renderCapacity(main) : renderRequests(main);
  document.title = `${detail ? `Request ${decodeURIComponent(detail[1]!)}` : name === 'capacity' ? 'Capacity' : 'Requests'} · GPU cluster provisioner`;
  if (moveFocus) main.querySelector<HTMLElement>('h2')?.focus();
  void tick();
};

liveToggle.addEventListener('click', () => {
  pausedByUser = !pausedByUser;
  liveToggle.setAttribute('aria-pressed', String(pausedByUser));
  liveToggle.textContent = pausedByUser ? 'Resume updates' : 'Pause updates';
  if (pausedByUser) {
    window.clearTimeout(timer);
    setLive('Updates paused');
  } else void tick();
});

document.addEventListener('visibilitychange', () => {
  if (document.hidden) {
    window.clearTimeout(timer);
    setLive('Paused while the tab is hidden');
  } else if (!pausedByUser && !running) void tick();
});

// The skip link moves focus to the content without touching the fragment, which routes.
document.querySelector('.skip')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => {
  if (location.hash === '' || location.hash.startsWith('#/')) route(true);
});
route(false);
