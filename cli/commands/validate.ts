/**
 * `provision validate FILE... [--json]`: check request files against the contract without sending anything.
 *
 * Exit 0 when every file is valid, 1 when any is invalid, 2 when any cannot be read or is not JSON (2 wins: a file
 * that could not be judged says nothing about the request it should have held).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { FieldError } from '../../functions/core/errors';
import { validateRequest } from '../../functions/core/validate';
import { EXIT, type CliIo, type Command } from '../types';

const USAGE = `Usage: provision validate FILE... [--json]

Checks each request file against the request contract and prints every error and warning.
  --json   one JSON line per file: {"file","valid","errors":[{"path","message"}],"warnings":[...]}
Exit codes: 0 all valid, 1 some file invalid, 2 some file unreadable or not JSON (or a usage error).
`;

interface FileReport {
  file: string;
  valid: boolean;
  errors: FieldError[];
  warnings: FieldError[];
  /** The file could not be judged: unreadable or not JSON. */
  unreadable: boolean;
}

const checkFile = async (file: string): Promise<FileReport> => {
  const unreadable = (message: string): FileReport => ({
    file,
    valid: false,
    errors: [{ path: '', message }],
    warnings: [],
    unreadable: true,
  });
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return unreadable(`cannot read file: ${code ?? (err as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(content.replace(/^\uFEFF/, '')); // a BOM some editors write is not a reason to reject
  } catch (err) {
    return unreadable(`not JSON: ${(err as Error).message}`);
  }
  const { valid, errors, warnings } = validateRequest(input);
  return { file, valid, errors, warnings, unreadable: false };
};

/** `file: path: message` per error, `file: warning: path: message` per warning, `file: valid`; the root is `/`. */
const humanLines = ({ file, valid, errors, warnings }: FileReport): string[] => [
  ...errors.map((e) => `${file}: ${e.path || '/'}: ${e.message}`),
  ...warnings.map((w) => `${file}: warning: ${w.path || '/'}: ${w.message}`),
  ...(valid ? [`${file}: valid`] : []),
];

const jsonLine = ({ file, valid, errors, warnings }: FileReport): string => JSON.stringify({ file, valid, errors, warnings });

export const validateCommand: Command = {
  summary: 'check request files against the contract (FILE... [--json])',

  async run(argv: string[], io: CliIo): Promise<number> {
    let files: string[];
    let json: boolean;
    try {
      const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
      });
      if (values.help) {
        io.stdout.write(USAGE);
        return EXIT.ok;
      }
      files = positionals;
      json = values.json;
    } catch (err) {
      io.stderr.write(`provision validate: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (files.length === 0) {
      io.stderr.write(`provision validate: no files given\n\n${USAGE}`);
      return EXIT.usage;
    }

    let exitCode: number = EXIT.ok;
    for (const file of files) {
      const report = await checkFile(file);
      io.stdout.write(`${json ? jsonLine(report) : humanLines(report).join('\n')}\n`);
      if (report.unreadable) exitCode = EXIT.usage;
      else if (!report.valid && exitCode === EXIT.ok) exitCode = EXIT.invalid;
    }
    return exitCode;
  },
};
