/**
 * The web console in a real browser (the Chromium of test/helpers/chromium.ts through playwright-core) against the local stack started
 * in-process, as `npm start` runs it: requests submitted through the CLI's API client appear in the list, one waits for
 * capacity (examples/hyperpod-capacity-shortage.json on the simulator) and becomes READY with a cost, another is
 * cancelled after a confirmation, the capacity map shows the offerings remembered as short with the totals; keyboard
 * only, visible focus, text contrast, the phone width; and the same page through `provision console`'s forwarding
 * server, which signs for a deployed API and refuses calls that are not the console's.
 *
 * Screenshots of each view go to <temp dir>/screenshots (printed); with UPDATE_SCREENSHOTS=1 the README's copies in
 * docs/images/console-*.png are written too.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi, type Api } from '../../cli/api';
import { CONSOLE_HEADER, startConsoleServer, type ConsoleServer } from '../../console/serve';
import { hourlyPrice } from '../../functions/core/prices';
import { startStack, type RunningStack } from '../../local/stack';
import { findChromium } from '../helpers/chromium';

const root = new URL('../..', import.meta.url).pathname;

let stack: RunningStack;
let browser: Browser;
let page: Page;
let api: Api;
let shots: string;
const pageErrors: string[] = [];
const suffix = randomUUID().slice(0, 8);
const waitsThenReady = `console-shortage-${suffix}`;
const waitsForever = `console-waits-${suffix}`;

const example = (name: string) => JSON.parse(readFileSync(join(root, 'examples', name), 'utf8')) as Record<string, any>;

const screenshot = async (name: string, committed = false) => {
  const file = join(shots, `console-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (committed && process.env.UPDATE_SCREENSHOTS === '1') copyFileSync(file, join(root, 'docs', 'images', `console-${name}.png`));
};

const go = async (hash: string) => {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.locator('main h2').first().waitFor();
};

/** Runs `js` in the page (a string: the test is compiled without the DOM's types) and answers its value. */
const inPage = <T>(js: string): Promise<T> => page.evaluate(js) as Promise<T>;

/** Every visible element with its own text, whose colour against its nearest opaque background is below 4.5:1. */
const lowContrast = (): Promise<string[]> =>
  inPage(`(() => {
    const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const bad = [];
    for (const el of document.querySelectorAll('body *')) {
      const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      const box = el.getBoundingClientRect();
      if (!own || box.width === 0 || box.height === 0 || el.closest('.visually-hidden, .skip, dialog:not([open])')) continue;
      const fg = lum(rgb(getComputedStyle(el).color));
      const bg = lum(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) bad.push(el.tagName.toLowerCase() + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2) + ':1');
    }
    return bad;
  })()`);

const noHorizontalScroll = () => inPage<boolean>('document.documentElement.scrollWidth <= window.innerWidth');

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'provisioner-console-'));
  shots = join(dataDir, 'screenshots');
  mkdirSync(shots, { recursive: true });
  console.info(`console screenshots: ${shots}`);
  stack = await startStack({ port: 0, dataDir, memory: true, timeScale: 0.02, readyAfterMs: 1500 });
  api = createApi(stack.apiUrl);
  const found = await findChromium();
  console.info(`chromium (${found.source}): ${found.executablePath}`);
  browser = await chromium.launch({ executablePath: found.executablePath, args: found.args, env: found.env });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(msg.text());
  });
  await page.goto(`${stack.apiUrl}/console/?poll=500`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the console, served by the local stack', () => {
  it('lists requests submitted from the CLI client, filters them, and follows one from waiting for capacity to READY', async () => {
    const shortage = { ...example('hyperpod-capacity-shortage.json'), requestId: waitsThenReady };
    const forever = example('hyperpod-capacity-shortage.json');
    forever.requestId = waitsForever;
    forever.cluster.ClusterName = `console-p4d-${suffix}`;
    // 16 × p4d where the simulator has 8: short until cancelled.
    forever.cluster.InstanceGroups[0].InstanceType = 'ml.p4d.24xlarge';
    forever.cluster.InstanceGroups[0].InstanceCount = 16;
    for (const body of [shortage, forever]) expect((await api.call('POST', '/clusters', body)).status).toBe(202);

    const row = (id: string) => page.locator(`tr[data-request="${id}"]`);
    await row(waitsThenReady).waitFor({ timeout: 10_000 });
    await row(waitsForever).waitFor();
    await expect(row(waitsThenReady).locator('td').nth(2).textContent()).resolves.toBe('sagemaker');
    await expect(row(waitsThenReady).locator('td').nth(3).textContent()).resolves.toBe('us-east-1');
    await expect(row(waitsThenReady).locator('td').nth(4).textContent()).resolves.toBe('4 × ml.p5.48xlarge');
    await row(waitsThenReady).locator('.badge', { hasText: 'WAITING_FOR_CAPACITY' }).waitFor({ timeout: 30_000 });
    await screenshot('requests', true);

    // Filters: the text filter narrows at once; a status filter asks the API for that status only.
    await page.fill('#filter-text', `waits-${suffix}`);
    await row(waitsThenReady).waitFor({ state: 'detached' });
    expect(await row(waitsForever).count()).toBe(1);
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-status', 'READY');
    await row(waitsForever).waitFor({ state: 'detached' });
    await page.selectOption('#filter-status', '');
    await row(waitsForever).waitFor();

    // Open the timeline by keyboard: focus the request's link, Enter.
    await row(waitsThenReady).locator('a').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#/requests/${waitsThenReady}$`));
    expect(await inPage<string>('document.activeElement?.tagName')).toBe('H2');
    const summary = page.locator('#summary');
    const timeline = page.locator('#timeline');
    // While it waits: the reason, the next attempt, each attempt of the log, the status changes.
    await timeline.locator('li', { hasText: 'Attempt at sagemaker us-east-1' }).first().waitFor({ timeout: 20_000 });
    await timeline.locator('li', { hasText: '→ WAITING_FOR_CAPACITY' }).first().waitFor();
    const waitingText = await summary.textContent();
    if ((await summary.locator('.badge').textContent()) === 'WAITING_FOR_CAPACITY') {
      expect(waitingText).toContain('Waiting for');
      expect(waitingText).toContain('Next attempt');
      await screenshot('timeline-waiting');
    }
    await summary.locator('.badge', { hasText: 'READY' }).waitFor({ timeout: 60_000 });
    await timeline.locator('li', { hasText: 'Event: Cluster Ready' }).waitFor({ timeout: 10_000 });
    const entries = (await timeline.locator('li').allTextContents()).join('\n');
    // The record keeps the last 50 attempts: after a long wait the first refusal (short) may have given way to skips.
    expect(entries).toMatch(/Attempt at sagemaker us-east-1 .*: (short|skipped)/);
    expect(entries).toMatch(/Attempt at sagemaker us-east-1 .*: created/);
    expect(entries).toContain('CREATING → READY');
    const price = hourlyPrice({ provider: 'hyperpod', region: 'us-east-1', instanceType: 'ml.p5.48xlarge' })!.usdPerHour;
    const rate = `$${(4 * price).toFixed(2)}/h`;
    await summary.locator('dd', { hasText: rate }).waitFor();
    // Every figure says where it comes from and of when: the Price List API (read at), or the offline table (its date).
    const source = await summary.locator('dt', { hasText: 'Prices from' }).locator('xpath=following-sibling::dd').textContent();
    expect(source).toMatch(
      /^(AWS Price List Query API \(GetProducts, AmazonSageMaker, us-east-1.*, \d{4}-\d\d-\d\dT|offline fallback: .*, \d{4}-\d\d-\d\d$)/,
    );
    expect(await page.locator('button', { hasText: 'Delete cluster' }).count()).toBe(1);
    await screenshot('timeline', true);
    expect(await lowContrast()).toEqual([]);
  }, 120_000);

  it('maps the offerings remembered as short, and totals the running instance-hours and cost', async () => {
    await page.keyboard.press('Tab');
    await page.click('nav a[data-view="capacity"]');
    await page.waitForURL(/#\/capacity$/);
    const p4d = page.locator('tr[data-offering="sagemaker#us-east-1#ml.p4d.24xlarge"]');
    await p4d.waitFor({ timeout: 20_000 });
    const cells = await p4d.locator('td').allTextContents();
    expect(cells.slice(0, 4)).toEqual(['sagemaker', 'us-east-1', 'ml.p4d.24xlarge', expect.stringMatching(/^(short|probing)$/)]);
    expect(cells[5]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in /);
    expect(cells[6]).toContain('p4d');
    await page.locator('#total-running', { hasText: /^1$/ }).waitFor();
    expect(await page.locator('#total-instances').textContent()).toBe('4');
    await page.waitForFunction(() => Number((globalThis as any).document.getElementById('total-instance-hours').textContent) > 0);
    const price = hourlyPrice({ provider: 'hyperpod', region: 'us-east-1', instanceType: 'ml.p5.48xlarge' })!.usdPerHour;
    expect(await page.locator('#total-rate').textContent()).toBe(`$${(4 * price).toFixed(2)}/h`);
    expect(await page.locator('#total-cost').textContent()).toMatch(/^\$\d+\.\d\d$/);
    await screenshot('capacity', true);
    expect(await lowContrast()).toEqual([]);
  }, 60_000);

  it('cancels a waiting request only after it is confirmed', async () => {
    await go(`#/requests/${waitsForever}`);
    const cancel = page.locator('#actions button', { hasText: 'Cancel request' });
    await cancel.waitFor({ timeout: 20_000 });
    // Escape keeps it.
    await cancel.focus();
    await page.keyboard.press('Enter');
    await page.locator('dialog#confirm[open]').waitFor();
    expect(await inPage<string>('document.activeElement?.id')).toBe('confirm-no');
    await screenshot('confirm');
    await page.keyboard.press('Escape');
    await page.locator('dialog#confirm[open]').waitFor({ state: 'detached' });
    expect(['WAITING_FOR_CAPACITY', 'CREATING', 'ACCEPTED']).toContain(
      ((await api.call<{ status: string }>('GET', `/clusters/${waitsForever}`)).body as { status: string }).status,
    );
    // Enter, Tab to the confirming button, Enter: cancelled.
    await cancel.focus();
    await page.keyboard.press('Enter');
    await page.locator('dialog#confirm[open]').waitFor();
    await page.keyboard.press('Tab');
    expect(await inPage<string>('document.activeElement?.id')).toBe('confirm-yes');
    await page.keyboard.press('Enter');
    await page
      .locator('#announce', { hasText: new RegExp(`Cancelled ${waitsForever}|${waitsForever} is now DELET`) })
      .waitFor({ timeout: 10_000 });
    await page.locator('#summary .badge', { hasText: 'DELETED' }).waitFor({ timeout: 30_000 });
    const record = (await api.call<{ status: string; cancelledAt?: string }>('GET', `/clusters/${waitsForever}`)).body;
    expect(record.status).toBe('DELETED');
    expect(record.cancelledAt).toBeDefined();
    expect(await page.locator('#actions button').count()).toBe(0);
  }, 60_000);

  it('is usable by keyboard alone: landmarks, labels, every control in Tab order, a visible focus', async () => {
    // A fresh load (another address), so the Tab order starts at the top of the page.
    await page.goto(`${stack.apiUrl}/console/?poll=500&from=keyboard#/requests`);
    await page.locator(`tr[data-request="${waitsThenReady}"]`).waitFor();
    expect(await page.locator('header.banner').count()).toBe(1);
    expect(await page.locator('nav[aria-label]').count()).toBe(1);
    expect(await page.locator('main').count()).toBe(1);
    for (const id of ['filter-status', 'filter-provider', 'filter-text'])
      expect(await page.locator(`label[for="${id}"]`).count(), `label of ${id}`).toBe(1);
    const seen: string[] = [];
    // Tab through the page, up to the request's link (past the last control, focus would leave the page).
    while (!seen.includes(waitsThenReady) && seen.length < 20) {
      await page.keyboard.press('Tab');
      const focused = await inPage<{ name: string; outline: boolean; style: string }>(`(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {
          name: el === document.body ? 'BODY' : el.id || el.dataset.key || el.dataset.view || el.textContent.trim() || el.tagName,
          outline: style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) >= 2,
          style: [style.outlineStyle, style.outlineWidth, el.matches(':focus-visible'), document.hasFocus()].join(' '),
        };
      })()`);
      seen.push(focused.name);
      expect(focused.outline, `visible focus on ${focused.name} (${focused.style})`).toBe(true);
    }
    const order = ['Skip to content', 'requests', 'capacity', 'live-toggle', 'filter-status', 'filter-provider', 'filter-text'];
    expect(seen.slice(0, order.length)).toEqual(order);
    expect(seen).toContain(waitsThenReady);
    // The skip link takes focus to the content; the pause button stops the updates.
    await page.keyboard.press('Shift+Tab');
    await page.focus('.skip');
    await page.keyboard.press('Enter');
    expect(await inPage<string>('document.activeElement?.id')).toBe('main');
    await page.focus('#live-toggle');
    await page.keyboard.press('Enter');
    expect(await page.getAttribute('#live-toggle', 'aria-pressed')).toBe('true');
    await page.locator('#live-state', { hasText: 'Updates paused' }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('#live-state', { hasText: 'Live' }).waitFor();
  }, 60_000);

  it('pauses the live updates while the tab is hidden', async () => {
    const calls: string[] = [];
    const listen = (req: { url(): string }) => {
      if (req.url().includes('/clusters')) calls.push(req.url());
    };
    page.on('request', listen);
    await inPage(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'))`);
    await page.locator('#live-state', { hasText: 'Paused while the tab is hidden' }).waitFor();
    await page.waitForTimeout(300);
    calls.length = 0;
    await page.waitForTimeout(1500);
    expect(calls).toEqual([]);
    await inPage(`Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'))`);
    await page.locator('#live-state', { hasText: 'Live' }).waitFor();
    expect(calls.length).toBeGreaterThan(0);
    page.off('request', listen);
  }, 30_000);

  it('fits a phone width (390 × 844) in every view, without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, name] of [
      ['#/requests', 'phone'],
      [`#/requests/${waitsThenReady}`, 'phone-timeline'],
      ['#/capacity', 'phone-capacity'],
    ] as const) {
      await go(hash);
      await page.waitForTimeout(700);
      expect(await noHorizontalScroll(), `${hash} at 390 px`).toBe(true);
      await screenshot(name, name === 'phone');
    }
    expect(await lowContrast()).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 60_000);

  it('logged no script error and no content-security-policy violation', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('provision console: the page on loopback, its calls forwarded to the API', () => {
  let server: ConsoleServer;
  let signed: ConsoleServer;
  let deployed: Server;
  const seenHeaders: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    server = await startConsoleServer({ port: 0, call: (method, path) => api.call(method, path) });
    // A stand-in for a deployed API on a loopback address the CLI treats as remote (so it signs), answering an empty list.
    deployed = createServer((req, res) => {
      seenHeaders.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ items: [] }));
    });
    await new Promise<void>((resolve) => deployed.listen(0, '127.0.0.2', () => resolve()));
    const remote = createApi(`http://127.0.0.2:${(deployed.address() as { port: number }).port}`, {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    });
    signed = await startConsoleServer({ port: 0, call: (method, path) => remote.call(method, path) });
  });

  afterAll(async () => {
    await server?.close();
    await signed?.close();
    await new Promise((resolve) => deployed?.close(resolve));
  });

  it('serves the same console, whose list, timeline and delete go through it', async () => {
    const other = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await other.goto(`${server.url}?poll=500`);
    await other.locator(`tr[data-request="${waitsThenReady}"]`).waitFor({ timeout: 10_000 });
    await other.locator(`a[data-key="${waitsThenReady}"]`).click();
    await other.locator('#summary .badge', { hasText: 'READY' }).waitFor();
    // Bus events are the local stack's; through the forwarding server the page says where they are instead.
    await other.locator('#timeline li', { hasText: 'does not serve bus events' }).waitFor();
    // Delete the READY cluster through it, after confirming.
    await other.locator('#actions button', { hasText: 'Delete cluster' }).click();
    await other.locator('#confirm-yes').click();
    await other.locator('#summary .badge', { hasText: /^DELET(ING|ED)$/ }).waitFor({ timeout: 10_000 });
    await other.locator('#summary .badge', { hasText: /^DELETED$/ }).waitFor({ timeout: 30_000 });
    const record = (await api.call<{ status: string; cost?: { sinceReadyUsd: number } }>('GET', `/clusters/${waitsThenReady}`)).body;
    expect(record.status).toBe('DELETED');
    expect(record.cost!.sinceReadyUsd).toBeGreaterThan(0);
    await other.close();
  }, 60_000);

  it('signs each forwarded call with SigV4 (execute-api) for a remote API', async () => {
    const res = await fetch(new URL('/clusters?limit=100', signed.url), { headers: { [CONSOLE_HEADER]: '1' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [] });
    const headers = seenHeaders.at(-1)!;
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request, /);
    expect(headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  it('runs as `provision console`: prints its address, serves the page, forwards, and stops on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['cli/bin.mjs', 'console', '--port', '0', '--api', stack.apiUrl], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const started = Date.now();
      while (!/Console: (\S+)/.test(output) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 100));
      const url = /Console: (\S+)/.exec(output)?.[1];
      expect(url, output).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/console\/$/);
      expect(output).toContain(`Forwarding to ${stack.apiUrl}`);
      const html = await fetch(url!);
      expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await html.text()).toContain('<main id="main"');
      const listed = await fetch(new URL('/clusters', url), { headers: { [CONSOLE_HEADER]: '1' } });
      expect(listed.status).toBe(200);
      expect(((await listed.json()) as { items: Array<{ requestId: string }> }).items.map((c) => c.requestId)).toContain(waitsThenReady);
      expect(output).toMatch(/GET \/clusters -> 200/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 40_000);

  it('refuses what is not the console: no console header, another origin or host, a route the page does not call', async () => {
    const at = (path: string) => new URL(path, server.url);
    expect((await fetch(at('/clusters'))).status).toBe(403);
    expect((await fetch(at('/clusters'), { headers: { [CONSOLE_HEADER]: '1', origin: 'http://evil.example' } })).status).toBe(403);
    expect((await fetch(at('/clusters'), { method: 'POST', headers: { [CONSOLE_HEADER]: '1' }, body: '{}' })).status).toBe(404);
    expect((await fetch(at('/reconcile'), { method: 'POST', headers: { [CONSOLE_HEADER]: '1' } })).status).toBe(404);
    expect((await fetch(at('/_local/events'), { headers: { [CONSOLE_HEADER]: '1' } })).status).toBe(404);
    const rebound = await new Promise<number>((resolve, reject) => {
      const url = at('/clusters');
      import('node:http').then(({ request }) => {
        const req = request(
          { host: url.hostname, port: url.port, path: url.pathname, headers: { host: `evil.example:${url.port}`, [CONSOLE_HEADER]: '1' } },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end();
      }, reject);
    });
    expect(rebound).toBe(421);
    const ok = await fetch(at('/clusters'), { headers: { [CONSOLE_HEADER]: '1' } });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(2);
  });
});
