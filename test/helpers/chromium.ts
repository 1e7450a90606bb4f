/**
 * Which Chromium the browser tests drive (test/console/console.test.ts), in this order:
 * 1. `CHROMIUM_PATH`, when set: that executable, and nothing else is tried.
 * 2. `@sparticuz/chromium`, a dev dependency that `npm ci` installs with the binary inside its tarball
 *    (brotli-compressed, Linux x64): inflated into the temporary directory on first use, with its own fonts, and with
 *    the NSS libraries it ships on the library path when the machine lacks them. No download, no install script.
 * 3. The system's: `chromium` on `PATH`, else `/usr/bin/chromium` (another architecture than Linux x64, say).
 * https://github.com/Sparticuz/chromium#readme
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

export interface ChromiumChoice {
  executablePath: string;
  /** Where it came from, printed by the test. */
  source: 'CHROMIUM_PATH' | '@sparticuz/chromium' | 'system';
  args: string[];
  /** Environment for the browser process (undefined: the test's own). */
  env?: Record<string, string>;
}

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The libraries `path` needs that the dynamic loader cannot find (none known when ldd is missing). */
const missingLibraries = (path: string): boolean => {
  try {
    return /not found/.test(execFileSync('ldd', [path], { encoding: 'utf8' }));
  } catch {
    return false;
  }
};

const fromNpm = async (): Promise<ChromiumChoice | undefined> => {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  const { default: packaged, inflate } = await import('@sparticuz/chromium');
  const executablePath = await packaged.executablePath();
  const bin = join(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium')), '..', 'bin');
  const fonts = await inflate(join(bin, 'fonts.tar.br'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.FONTCONFIG_PATH = fonts;
  if (missingLibraries(executablePath)) {
    const lib = join(await inflate(join(bin, 'al2023.tar.br')), 'lib');
    env.LD_LIBRARY_PATH = [lib, process.env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter);
  }
  return { executablePath, source: '@sparticuz/chromium', args: ['--no-sandbox', '--no-zygote'], env };
};

const fromSystem = (): ChromiumChoice | undefined => {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium')), '/usr/bin/chromium'];
  const executablePath = candidates.find(executable);
  return executablePath ? { executablePath, source: 'system', args: ['--no-sandbox'] } : undefined;
};

export const findChromium = async (): Promise<ChromiumChoice> => {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!executable(configured)) throw new Error(`CHROMIUM_PATH=${configured} is not an executable`);
    return { executablePath: configured, source: 'CHROMIUM_PATH', args: ['--no-sandbox'] };
  }
  const found = (await fromNpm()) ?? fromSystem();
  if (!found) {
    throw new Error(
      'No chromium: @sparticuz/chromium ships Linux x64 only, and none is on PATH or at /usr/bin/chromium; set CHROMIUM_PATH',
    );
  }
  return found;
};
