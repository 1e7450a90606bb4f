/**
 * `provision plan FILE... [--api URL] [--json]`: the pre-flight plan of each request file, from the API
 * (`POST /clusters?dryRun=true`: the same validation as a submit, then every check of every placement and the price;
 * nothing is recorded or created), so it works against the local stack and a deployment alike.
 *
 * Exit codes: 0 when no check of any file fails (warnings and skipped checks do not count), 1 when some check fails,
 * 2 when a file is unreadable or not JSON, the API refuses the request as malformed (400: the request itself is wrong,
 * not the account; its pointers are printed), or the API cannot be reached or cannot plan (2 wins over 1).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { FieldError } from '../../functions/core/errors';
import type { PlanReport, PlacementPlan } from '../../functions/core/plan';
import { ApiUnreachableError, apiUrlFrom, createApi, type Api } from '../api';
import { EXIT, type CliIo, type Command } from '../types';

const USAGE = `Usage: provision plan FILE... [--api URL] [--json]

Asks the provisioner for the pre-flight plan of each request file (POST /clusters?dryRun=true): quota, subnet
addresses, EFA security group, lifecycle script, execution role, training plan, EKS cluster (HyperPod); credentials,
project, SKU, image (TIR); and the price per hour and for deleteAfter. Nothing is recorded or created.
  --api URL  the provisioner API (env PROVISIONER_API_URL, default http://localhost:3000)
  --json     one JSON line per file: {"file","status","plan"} (or {"file","status","errors"} when refused)
Exit codes: 0 nothing fails, 1 some check fails, 2 a file unreadable, not JSON or refused as malformed (400), or
the API unreachable.
`;

const money = (currency: string, n: number): string => `${currency} ${n.toFixed(2)}`;

const costLine = (p: PlacementPlan): string => {
  const c = p.cost;
  if (c.perHour === undefined) return `cost: unknown (${c.note ?? 'no price'})`;
  const total =
    c.total !== undefined && c.hours !== undefined ? `, ${money(c.currency, c.total)} for deleteAfter (${+c.hours.toFixed(2)} h)` : '';
  const sources = [...new Set(c.lines.flatMap((l) => (l.source ? [`${l.source}${l.asOf ? `, ${l.asOf}` : ''}`] : [])))];
  return `cost: ${money(c.currency, c.perHour)}/h${total}${sources.length > 0 ? ` [${sources.join('; ')}]` : ''}`;
};

/** Where the plan's prices come from, in words. */
const pricesFrom = (report: PlanReport): string =>
  report.priceOrigin === 'price-list-api'
    ? 'prices from the AWS Price List API'
    : report.priceOrigin === 'mixed'
      ? `prices from the AWS Price List API, some from the offline table of ${report.priceTableDate}`
      : `prices from the offline table of ${report.priceTableDate}`;

/** The human table of one plan. */
export const renderPlan = (file: string, report: PlanReport): string => {
  const lines = [`${file}: plan of ${report.requestId}`];
  for (const p of report.placements) {
    lines.push('', `  ${p.index === 0 ? 'primary' : `alternative ${p.index - 1}`}: ${p.where} (${p.clusterName}) — ${costLine(p)}`);
    const width = Math.max(5, ...p.checks.map((c) => c.check.length));
    const subjectWidth = Math.min(40, Math.max(7, ...p.checks.map((c) => c.subject.length)));
    lines.push(`    ${'STATUS'.padEnd(8)} ${'CHECK'.padEnd(width)}  ${'SUBJECT'.padEnd(subjectWidth)}  DETAIL`);
    for (const c of p.checks) {
      const subject = c.subject.length > subjectWidth ? `${c.subject.slice(0, subjectWidth - 1)}…` : c.subject;
      lines.push(`    ${c.status.padEnd(8)} ${c.check.padEnd(width)}  ${subject.padEnd(subjectWidth)}  ${c.message}`);
      if (c.fix && c.status !== 'pass')
        lines.push(`    ${''.padEnd(8)} ${''.padEnd(width)}  ${''.padEnd(subjectWidth)}  fix: ${c.fix} (${c.path || '/'})`);
    }
  }
  const s = report.summary;
  lines.push(
    '',
    `  ${s.pass} pass, ${s.warn} warn, ${s.fail} fail, ${s.skipped} skipped: ${report.ok ? 'nothing fails' : 'FAILS'} (${pricesFrom(report)})`,
  );
  return `${lines.join('\n')}\n`;
};

const planFile = async (api: Api, file: string, json: boolean, io: CliIo): Promise<number> => {
  let input: unknown;
  try {
    input = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, ''));
  } catch (err) {
    const message = (err as NodeJS.ErrnoException).code
      ? `cannot read file: ${(err as NodeJS.ErrnoException).code}`
      : `not JSON: ${(err as Error).message}`;
    if (json) io.stdout.write(`${JSON.stringify({ file, status: 'unreadable', errors: [{ path: '', message }] })}\n`);
    else io.stderr.write(`${file}: ${message}\n`);
    return EXIT.usage;
  }
  const { status, body } = await api.call<PlanReport & { code?: string; message?: string; errors?: FieldError[] }>(
    'POST',
    '/clusters?dryRun=true',
    input,
  );
  if (status !== 200) {
    if (json) io.stdout.write(`${JSON.stringify({ file, status: status === 400 ? 'malformed' : 'error', http: status, ...body })}\n`);
    else {
      io.stderr.write(`${file}: HTTP ${status}${body.code ? ` ${body.code}` : ''}: ${body.message ?? 'refused'}\n`);
      for (const e of body.errors ?? []) io.stderr.write(`${file}: ${e.path || '/'}: ${e.message}\n`);
    }
    return EXIT.usage;
  }
  if (json) io.stdout.write(`${JSON.stringify({ file, status: body.ok ? 'ok' : 'fails', plan: body })}\n`);
  else io.stdout.write(renderPlan(file, body));
  return body.ok ? EXIT.ok : EXIT.invalid;
};

export const planCommand: Command = {
  summary: 'the pre-flight plan of request files: checks and price, nothing created (FILE... [--json])',

  async run(argv: string[], io: CliIo): Promise<number> {
    let values: { api?: string; json: boolean; help: boolean };
    let files: string[];
    try {
      const parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          api: { type: 'string' },
          json: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h', default: false },
        },
      });
      values = parsed.values as typeof values;
      files = parsed.positionals;
    } catch (err) {
      io.stderr.write(`provision plan: ${(err as Error).message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    if (values.help) {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    if (files.length === 0) {
      io.stderr.write(`provision plan: no files given\n\n${USAGE}`);
      return EXIT.usage;
    }
    const api = createApi(apiUrlFrom(values.api));
    let exitCode: number = EXIT.ok;
    for (const file of files) {
      let code: number;
      try {
        code = await planFile(api, file, values.json, io);
      } catch (err) {
        if (!(err instanceof ApiUnreachableError)) throw err;
        io.stderr.write(`provision: ${err.message}\n`);
        return EXIT.usage;
      }
      if (code === EXIT.usage) exitCode = EXIT.usage;
      else if (code === EXIT.invalid && exitCode === EXIT.ok) exitCode = EXIT.invalid;
    }
    return exitCode;
  },
};
