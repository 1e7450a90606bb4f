/**
 * `provision console`: the web console (console/) on loopback, for a deployed API: a local server serves the page and
 * forwards its API calls to `--api`, signed with SigV4 from the caller's AWS credentials by the CLI's own client
 * (cli/api.ts, cli/sigv4.ts), exactly as every other command calls it. Nothing new is deployed and no new credential
 * exists: the page holds no secret, and the server forwards only the console's four read and delete routes, only from
 * the page it serves (console/serve.ts). Runs until Ctrl-C.
 */
import { parseArgs } from 'node:util';
import { startConsoleServer } from '../../console/serve';
import { apiUrlFrom, createApi } from '../api';
import { EXIT, type Command } from '../types';

const USAGE = `Usage: provision console [--api URL] [--port N]

Serves the web console on http://127.0.0.1:PORT/console/ and forwards its calls to the API at --api (env
PROVISIONER_API_URL, default http://localhost:3000), signed with your AWS credentials (the SDK's default chain) when
the API is not local. Runs until Ctrl-C.
  --port N   the local port (default 3001; 0 picks a free one)
`;

export const consoleCommand: Command = {
  summary: 'Serve the web console on loopback, forwarding to the API (signed)',
  async run(argv, io) {
    let values: { api?: string; port?: string; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          api: { type: 'string' },
          port: { type: 'string', default: '3001' },
          help: { type: 'boolean', short: 'h', default: false },
        },
        strict: true,
      }));
    } catch (err) {
      io.stderr.write(`provision: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (values.help) {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    const port = Number(values.port);
    if (!/^\d+$/.test(values.port ?? '') || port > 65535) {
      io.stderr.write(`provision: --port must be a port number, got "${values.port}"\n`);
      return EXIT.usage;
    }
    const api = createApi(apiUrlFrom(values.api));
    let server: Awaited<ReturnType<typeof startConsoleServer>>;
    try {
      server = await startConsoleServer({
        port,
        call: (method, path) => api.call(method, path),
        onForward: (line) => io.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      io.stderr.write(`provision: cannot listen on 127.0.0.1:${port}${code ? ` (${code})` : ''}; pick another with --port\n`);
      return EXIT.usage;
    }
    io.stdout.write(`Console: ${server.url}\nForwarding to ${api.base} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.close();
    return EXIT.ok;
  },
};
