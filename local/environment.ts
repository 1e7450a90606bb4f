/**
 * The functions' environment on the local stack, from the one table of functions/contract/environment.js: each
 * variable's local value (`local`), the settings of `npm start` (./settings.ts), and what is removed. One process runs
 * every function, so the stack sets the union: what each function reads is there.
 */
import { ENV, VARIABLES, type EnvKey, type LocalContext } from '../functions/contract/environment.js';
import { localSettingOf } from './settings';

const KEYS = Object.keys(ENV) as EnvKey[];

/**
 * Each variable the local stack sets (a string) or removes (`undefined`); one it leaves as it was started with is
 * absent.
 */
export const localEnvironment = (ctx: LocalContext): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {};
  for (const key of KEYS) {
    const { local } = VARIABLES[key];
    const name = ENV[key];
    if (local === null) out[name] = undefined;
    else if (local === 'setting') out[name] = localSettingOf(key, ctx.env, ctx);
    else if (local) {
      const value = local(ctx);
      if (value !== undefined) out[name] = value;
    }
  }
  return out;
};

/** Sets (and removes) `values` in `env`. */
export const applyEnvironment = (env: NodeJS.ProcessEnv, values: Record<string, string | undefined>): void => {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
};
