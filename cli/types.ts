/**
 * What every subcommand shares: where it writes, its shape, and the exit codes. Its own module, so that commands and
 * the entry point (./provision.ts) both import it and never each other.
 *
 * Exit codes: 0 success, 1 the input was judged and found wanting (e.g. an invalid request), 2 usage errors and input
 * that could not be judged at all (unreadable file, not JSON).
 */

/** Where a command writes; process.stdout / process.stderr in the real CLI. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export interface Command {
  /** One line for `provision --help`. */
  summary: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(argv: string[], io: CliIo): Promise<number>;
}

export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;
