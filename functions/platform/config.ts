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

/** Memoize an async factory: built once per process, on first use; a failure (a rejected import) is tried again. */
export const onceAsync = <T>(factory: () => Promise<T>): (() => Promise<T>) => {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= factory().catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
};

/**
 * A port whose adapter is imported on first use: the object answers `methods` at once, each loading the adapter
 * (`load`: typically a dynamic import of the adapter module, then its factory) before its first call. The deployment's bundles are
 * split (serverless.yml `custom.esbuild.splitting`), so the adapter and its SDK client are a chunk read only then.
 */
export const lazily = <T extends object>(load: () => Promise<T>, methods: ReadonlyArray<keyof T & string>): T => {
  const loaded = onceAsync(load);
  return Object.fromEntries(
    methods.map((method) => [
      method,
      async (...args: unknown[]) => {
        const port = await loaded();
        return (port[method] as (...a: unknown[]) => unknown).apply(port, args);
      },
    ]),
  ) as T;
};
