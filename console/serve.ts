/**
 * Serves the console (console/index.html, style.css and src/*.ts bundled by esbuild into app.js, built in memory on the
 * first request and kept), for the local stack (local/stack.ts, beside its API) and for `provision console` (a loopback
 * server that forwards the console's API calls to a deployed API, signed with the caller's AWS credentials by the CLI's
 * own client, cli/api.ts).
 *
 * The forwarding server is a signing proxy on loopback, so it lets through only what the console needs and only from
 * the console: the four routes the page calls (GET /clusters, GET and DELETE /clusters/{requestId}, GET /offerings),
 * each with the console's header (a page of another origin cannot send it: that takes a CORS preflight, never answered
 * here), a Host naming this server (no DNS rebinding) and, when the browser sends one, an Origin that is this server.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSOLE_HEADER } from '../functions/contract/routes.js';

const ROOT = new URL('./', import.meta.url);

/** The header every API call of the page carries (console/src/api.ts). */
export { CONSOLE_HEADER };

/** What the page may load: no script, style or font from anywhere else, no framing. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

interface Asset {
  type: string;
  body: string;
}

let assets: Promise<Map<string, Asset>> | undefined;

/** Bundles the page with esbuild (once per process). */
export const consoleAssets = (): Promise<Map<string, Asset>> => {
  assets ??= (async () => {
    const { build } = await import('esbuild');
    const bundle = await build({
      entryPoints: [new URL('src/main.ts', ROOT).pathname],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      write: false,
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    const text = async (name: string) => readFile(new URL(name, ROOT), 'utf8');
    return new Map<string, Asset>([
      ['index.html', { type: 'text/html; charset=utf-8', body: await text('index.html') }],
      ['style.css', { type: 'text/css; charset=utf-8', body: await text('style.css') }],
      ['app.js', { type: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0]!.text }],
    ]);
  })();
  assets.catch(() => (assets = undefined));
  return assets;
};

/**
 * Answers a request for the console (`/console`, `/console/`, its files) and resolves true, or resolves false when the
 * path is not the console's.
 */
export const serveConsole = async (req: IncomingMessage, res: ServerResponse, pathname: string): Promise<boolean> => {
  if (pathname !== '/console' && !pathname.startsWith('/console/')) return false;
  if (pathname === '/console') {
    res.writeHead(308, { location: '/console/' });
    res.end();
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'MethodNotAllowed', message: 'The console is read with GET' }));
    return true;
  }
  const name = pathname.slice('/console/'.length) || 'index.html';
  const asset = (await consoleAssets()).get(name);
  if (!asset) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'NotFound', message: `No console file ${name}` }));
    return true;
  }
  res.writeHead(200, { 'content-type': asset.type, ...SECURITY_HEADERS });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
  return true;
};

/** The routes the page calls, as `METHOD path` patterns. */
const FORWARDED: Array<[method: string, pattern: RegExp]> = [
  ['GET', /^\/clusters\/?$/],
  ['GET', /^\/clusters\/[^/]+\/?$/],
  ['DELETE', /^\/clusters\/[^/]+\/?$/],
  ['GET', /^\/offerings\/?$/],
];

/** The CLI's API client, or anything that answers like it (cli/api.ts `createApi(...).call`). */
export type ApiCall = (method: string, path: string) => Promise<{ status: number; body: unknown }>;

export interface ConsoleServer {
  url: string;
  close(): Promise<void>;
}

const sendJson = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
};

/**
 * The console on 127.0.0.1:`port` (0: any free port), its API calls forwarded through `call`. `onForward` hears of
 * each forwarded call (method, path, status), for the CLI's log.
 */
export const startConsoleServer = async (options: {
  port: number;
  call: ApiCall;
  onForward?: (line: string) => void;
}): Promise<ConsoleServer> => {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const port = (server.address() as AddressInfo).port;
      const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
      if (!hosts.includes(req.headers.host ?? '')) return sendJson(res, 421, { code: 'MisdirectedRequest', message: 'Unknown host' });
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      if (url.pathname === '/') {
        res.writeHead(302, { location: '/console/' });
        return res.end();
      }
      if (await serveConsole(req, res, url.pathname)) return;
      const allowed = FORWARDED.some(([method, pattern]) => method === req.method && pattern.test(url.pathname));
      if (!allowed) return sendJson(res, 404, { code: 'NotFound', message: `The console does not forward ${req.method} ${url.pathname}` });
      const origin = req.headers.origin;
      if (req.headers[CONSOLE_HEADER] !== '1' || (origin !== undefined && !hosts.some((h) => origin === `http://${h}`)))
        return sendJson(res, 403, { code: 'Forbidden', message: 'Only the console served here may call the API through it' });
      const answer = await options.call(req.method!, `${url.pathname}${url.search}`);
      options.onForward?.(`${req.method} ${url.pathname} -> ${answer.status}`);
      sendJson(res, answer.status, answer.body);
    })().catch((err: unknown) => {
      const message = err instanceof Error && err.name === 'ApiUnreachableError' ? err.message : 'The console server failed';
      if (!res.headersSent) sendJson(res, 502, { code: 'BadGateway', message });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/console/`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
