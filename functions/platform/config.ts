/**
 * Configuration read once per process. `required` fails loudly at first use of a missing variable, naming it.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export const required = (name: string, env: NodeJS.ProcessEnv = process.env): string => {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`Environment variable ${name} is required`);
  return value;
};

export const optional = (name: string, fallback: string, env: NodeJS.ProcessEnv = process.env): string => {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
};

export const optionalInt = (name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new ConfigError(`Environment variable ${name} must be an integer, got "${raw}"`);
  return value;
};

/** A required comma-separated list: entries trimmed, empty ones dropped; a list left empty is an error too. */
export const requiredList = (name: string, env: NodeJS.ProcessEnv = process.env): string[] => {
  const values = required(name, env)
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);
  if (values.length === 0) throw new ConfigError(`Environment variable ${name} must list at least one value`);
  return values;
};

/** An optional comma-separated list: entries trimmed, empty ones dropped; unset or empty is `[]`. */
export const optionalList = (name: string, env: NodeJS.ProcessEnv = process.env): string[] =>
  (env[name] ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter(Boolean);

/** Memoize a factory so a value (a client, a secret) is built once per process, on first use. */
export const once = <T>(factory: () => T): (() => T) => {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = factory();
      made = true;
    }
    return value;
  };
};

/**
 * What every AWS SDK client of the functions is given: 2 attempts of at most 10 s each (plus a 3 s connect), so a
 * call that hangs fails as a timeout well inside the 30 s of a task Lambda instead of the Lambda dying mid-call.
 */
export const SDK_CLIENT_DEFAULTS = {
  maxAttempts: 2,
  requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000, throwOnRequestTimeout: true },
} as const;
