/**
 * `provision`: the command line of the provisioner. cli/bin.mjs runs `main`; tests call it in-process with their own io.
 *
 * Each subcommand is one module under ./commands exporting a `Command`; add it to COMMANDS and it shows in `--help`.
 * Exit codes shared by every subcommand: 0 success, 1 the input was judged and found wanting (e.g. an invalid
 * request), 2 usage errors and input that could not be judged at all (unreadable file, not JSON).
 */
import { deleteCommand, eventsCommand, listCommand, statusCommand, submitCommand } from './commands/clusters';
import { validateCommand } from './commands/validate';

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

const COMMANDS: Readonly<Record<string, Command>> = {
  validate: validateCommand,
  submit: submitCommand,
  status: statusCommand,
  list: listCommand,
  delete: deleteCommand,
  events: eventsCommand,
};

const usage = (): string =>
  [
    'Usage: provision <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`),
    '',
    'Run `provision <command> --help` for the options of a command.',
    '',
  ].join('\n');

export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage());
    return EXIT.ok;
  }
  const command = name === undefined ? undefined : Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    io.stderr.write(`${name === undefined ? 'provision: missing command' : `provision: unknown command "${name}"`}\n\n${usage()}`);
    return EXIT.usage;
  }
  return command.run(rest, io);
}
