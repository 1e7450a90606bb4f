/**
 * `provision`: the command line of the provisioner. cli/bin.mjs runs `main`; tests call it in-process with their own io.
 *
 * Each subcommand is one module under ./commands exporting a `Command` (./types.ts); add it to COMMANDS and it shows
 * in `--help`.
 */
import {
  deleteCommand,
  eventsCommand,
  listCommand,
  orphansCommand,
  reconcileCommand,
  statusCommand,
  submitCommand,
} from './commands/clusters';
import { consoleCommand } from './commands/console';
import { planCommand } from './commands/plan';
import { validateCommand } from './commands/validate';
import { EXIT, type CliIo, type Command } from './types';

export { EXIT, type CliIo, type Command };

const COMMANDS: Readonly<Record<string, Command>> = {
  validate: validateCommand,
  plan: planCommand,
  submit: submitCommand,
  status: statusCommand,
  list: listCommand,
  delete: deleteCommand,
  events: eventsCommand,
  reconcile: reconcileCommand,
  orphans: orphansCommand,
  console: consoleCommand,
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
