/**
 * Writes every table and schema fragment that restates the code, from the code. Run with `npm run generate` (after
 * scripts/generate-contract.ts) whenever a source below changes, and commit what it writes.
 *
 * 1. Markdown blocks: in README.md and docs/*.md, the text between `<!-- generated:NAME -->` and
 *    `<!-- /generated:NAME -->` is replaced by BLOCKS[NAME] (each names the modules it is written from). A block name
 *    it does not know stops it.
 * 2. functions/handlers/http/openapi.json: the paths and their methods and summaries (functions/contract/routes.js),
 *    the path parameters, and the components RequestId (request-id.js), Provider (providers.js), Status and
 *    WaitReason (statuses.js) and ErrorCode (errors.js, plus the codes the HTTP layer answers by itself, read from
 *    its `new HttpError(status, 'Code', ...)` and `json(status, errorBody('Code', ...))` under functions/). Everything
 *    else in the document (responses, record shape, descriptions) is written by hand and kept as it is.
 * 3. functions/core/event-schemas/*.schema.json: each file's title (functions/core/events.ts DETAIL_TYPES), and for the
 *    cluster events the requestId pattern, the provider enum and the status the event reports. The rest is by hand.
 *
 * Hand-written parts may not restate these facts: an enum elsewhere in the OpenAPI document or an event schema that
 * holds a status, a provider or an error code, or a requestId with its own pattern, stops the generator (use the
 * component's $ref). test/docs/current.test.ts fails when a committed file differs from what this produces now.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { HYPERPOD_ERROR_TABLE } from '../functions/adapters/hyperpod';
import { TIR_ASSUMPTIONS, TIR_ERROR_TABLE } from '../functions/adapters/tir';
import { ERRORS, ERROR_NAMES, type ErrorName } from '../functions/contract/errors.js';
import { PROVIDERS } from '../functions/contract/providers.js';
import { REQUEST_ID_PATTERN } from '../functions/contract/request-id.js';
import { ROUTES, routeKey } from '../functions/contract/routes.js';
import {
  CANCELLABLE,
  DELETABLE,
  STATUSES,
  STATUS_MEANINGS,
  TRANSITIONS,
  WAIT_REASONS,
  WAIT_REASON_MEANINGS,
  type ClusterStatus,
} from '../functions/contract/statuses.js';
import { CLUSTER_RECORD_TYPE, INDEX_PARTITION_KEYS, INTERNAL_ATTRIBUTES, table } from '../functions/contract/table.js';
import { DETAIL_TYPES, EVENT_SOURCE } from '../functions/core/events';
import { ENV, VARIABLES, type Deployed, type EnvKey } from '../functions/contract/environment.js';
import { ACCOUNT, LOCAL_PRINCIPAL, REGION, STAGE_PREFIX } from '../local/identity';
import { LOCAL_SETTINGS } from '../local/settings';
import { SETTINGS, deleteClusterAsl, lambdaFunctionKey, provisionClusterAsl } from '../statemachines/definitions.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export const OUTPUTS = {
  readme: 'README.md',
  docs: 'docs',
  openapi: 'functions/handlers/http/openapi.json',
  eventSchemas: 'functions/core/event-schemas',
  request: 'functions/contract/request.schema.json',
  httpLayer: 'functions',
} as const;

type Json = { [key: string]: unknown };
type DetailTypeKey = keyof typeof DETAIL_TYPES;

// ---------------------------------------------------------------------------------------------------------------------
// Markdown helpers.

/** Text for a table cell: pipes escaped, `<` and `>` outside code spans written as entities, one line. */
const text = (value: string): string =>
  value
    .replace(/\s+/g, ' ')
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('')
    .replace(/\|/g, '\\|');

const code = (value: string | number): string => `\`${value}\``;

const mdTable = (head: string[], rows: string[][]): string =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');

const list = (values: readonly string[]): string => values.map(code).join(', ');

/** `a`, `b` or `c`. */
const either = (values: readonly string[]): string =>
  values.length < 2 ? list(values) : `${list(values.slice(0, -1))} or ${code(values[values.length - 1]!)}`;

// ---------------------------------------------------------------------------------------------------------------------
// The functions' environment (functions/contract/environment.js).

/** What the deployment sets, as serverless.yml would write it. */
const deployedText = (deployed: Deployed | 'runtime' | undefined, unset: string | undefined): string => {
  const whenUnset = unset ? `unset: ${unset}` : 'unset';
  if (deployed === undefined) return `(${whenUnset})`;
  if (deployed === 'runtime') return 'the Lambda runtime';
  const shown =
    'Ref' in deployed
      ? code(`!Ref ${deployed.Ref}`)
      : 'Fn::GetAtt' in deployed
        ? code(`!GetAtt ${deployed['Fn::GetAtt'].join('.')}`)
        : 'Fn::Sub' in deployed
          ? code(`!Sub ${deployed['Fn::Sub']}`)
          : 'param' in deployed
            ? `param ${code(deployed.param)}`
            : 'self' in deployed
              ? code(`\${self:${deployed.self}}`)
              : 'allowList' in deployed
                ? `param ${code(deployed.allowList)} ([allow-lists](deploy.md#parameters))`
                : code(deployed.literal);
  return unset ? `${shown} (${whenUnset})` : shown;
};

/** The local stack's value, for the docs: what it sets in its own region and account with nothing else given. */
const localText = (key: EnvKey): string => {
  const { local, localShown } = VARIABLES[key];
  if (local === 'setting')
    return `a setting, default ${code(LOCAL_SETTINGS[ENV[key] as keyof typeof LOCAL_SETTINGS].shown)} ([cli.md](cli.md#environment-variables))`;
  if (localShown) return text(localShown);
  if (local === null) return '(removed)';
  if (local === undefined) return 'as started';
  const value = local({
    region: REGION,
    account: ACCOUNT,
    prefix: STAGE_PREFIX,
    principal: LOCAL_PRINCIPAL,
    timeScale: 1,
    env: {},
    newKey: () => '',
  });
  return value === undefined ? 'as started' : code(value);
};

// ---------------------------------------------------------------------------------------------------------------------
// Facts derived from more than one module.

/** The HTTP layer's own error codes (malformed body, media type, size, internal error), read from where they are thrown. */
export const httpLayerCodes = (root = ROOT): Map<string, number> => {
  const codes = new Map<string, number>();
  const visit = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts')) {
        const source = readFileSync(join(root, path), 'utf8');
        for (const [, status, name] of source.matchAll(/(?:new HttpError|json)\(\s*(\d{3}),\s*(?:errorBody\(\s*)?'([A-Za-z]+)'/g)) {
          const known = codes.get(name!);
          if (known !== undefined && known !== Number(status)) throw new Error(`HTTP code ${name} is answered with ${known} and ${status}`);
          codes.set(name!, Number(status));
        }
      }
    }
  };
  visit(OUTPUTS.httpLayer);
  if (codes.size === 0) throw new Error(`found no HttpError or error response under ${OUTPUTS.httpLayer}/: update httpLayerCodes`);
  return codes;
};

/** Every code an error body may carry, with its status: the contract's, then the HTTP layer's. Sorted by status, code. */
export const errorCodes = (root = ROOT): { code: string; status: number; from: string }[] => {
  const codes = new Map<string, { status: number; from: string }>();
  for (const name of ERROR_NAMES) {
    const http = (ERRORS[name] as { http?: { status: number; code: string } }).http;
    if (!http) continue;
    const known = codes.get(http.code);
    if (known && known.status !== http.status) throw new Error(`HTTP code ${http.code} has two statuses in functions/contract/errors.js`);
    codes.set(http.code, { status: http.status, from: known ? `${known.from}, ${code(name)}` : code(name) });
  }
  for (const [name, status] of httpLayerCodes(root)) {
    const known = codes.get(name);
    if (known && known.status !== status)
      throw new Error(`HTTP code ${name} is ${known.status} in the contract but ${status} in the HTTP layer`);
    if (!known) codes.set(name, { status, from: 'the HTTP layer' });
  }
  return [...codes].map(([name, value]) => ({ code: name, ...value })).sort((a, b) => a.status - b.status || a.code.localeCompare(b.code));
};

/** The status a cluster event reports (functions/core/workflow/outcome.ts, recordOutcome). The rejection has no record. */
const EVENT_STATUS = {
  ready: 'READY',
  failed: 'FAILED',
  deleted: 'DELETED',
  deleteFailed: 'FAILED',
  waiting: 'WAITING_FOR_CAPACITY',
} as const satisfies Partial<Record<DetailTypeKey, ClusterStatus>>;

/** Detail-types the system receives rather than sends; their detail is the request. */
const INCOMING: Partial<Record<DetailTypeKey, string>> = { requested: OUTPUTS.request };

const schemaFileOf = (detailType: string): string => `${detailType.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.schema.json`;

const readJson = (root: string, path: string): Json => JSON.parse(readFileSync(join(root, path), 'utf8')) as Json;

/** The committed default of a setting: its value in the ASL file, the same at every place it lands. */
const settingDefault = (name: string): unknown => {
  const setting = SETTINGS[name]!;
  const definition = (setting.machine === 'provision' ? provisionClusterAsl() : deleteClusterAsl()) as Json;
  const values = setting.paths.map((path) =>
    path.reduce<unknown>((node, key) => {
      if (node === null || typeof node !== 'object' || !(key in node)) throw new Error(`setting ${name}: the ASL has no ${path.join('.')}`);
      return (node as Record<string | number, unknown>)[key];
    }, definition),
  );
  if (new Set(values.map((value) => JSON.stringify(value))).size !== 1)
    throw new Error(`setting ${name} has different committed values: ${values.join(', ')}`);
  return values[0];
};

interface TableRow {
  to: new (message: string) => Error;
  reason: string;
  /** How the failure looks on the wire, for the docs (optional until every row carries one). */
  wire?: string;
}

const errorRows = (rows: readonly TableRow[]): string => {
  const withWire = rows.some((row) => typeof row.wire === 'string');
  if (withWire && !rows.every((row) => typeof row.wire === 'string'))
    throw new Error('some error table rows have a wire description and some do not');
  return mdTable(
    ['#', ...(withWire ? ['Wire form'] : []), 'Error', 'Retryable', 'Reason'],
    rows.map((row, i) => {
      const name = new row.to('').name;
      if (!Object.hasOwn(ERRORS, name))
        throw new Error(`an error table row maps to ${name}, which functions/contract/errors.js does not name`);
      return [
        String(i + 1),
        ...(withWire ? [text(row.wire!)] : []),
        code(name),
        ERRORS[name as ErrorName].retryable ? 'yes' : 'no',
        text(row.reason),
      ];
    }),
  );
};

interface QueryParameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: { $ref?: string; minimum?: number; maximum?: number; default?: unknown };
}

const queryParameter = ({ name, required, schema = {} }: QueryParameter): string => {
  const about = [
    required ? 'required' : '',
    schema.$ref ? `a ${schema.$ref.split('/').pop()}` : '',
    schema.minimum !== undefined && schema.maximum !== undefined ? `${schema.minimum}..${schema.maximum}` : '',
    schema.default !== undefined ? `default ${String(schema.default)}` : '',
  ].filter(Boolean);
  return about.length > 0 ? `${code(name)} (${about.join(', ')})` : code(name);
};

interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  MaxAttempts?: number;
  JitterStrategy?: string;
}

interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  Retry?: AslRetrier[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
}

/** The Retry / Catch of every task state of both workflows, as committed (ASL defaults where a field is absent). */
const workflowRetries = (): string => {
  const machines = { 'provision-cluster': provisionClusterAsl(), 'delete-cluster': deleteClusterAsl() } as Record<
    string,
    { States: Record<string, AslState> }
  >;
  let lambdaTransient: string[] | undefined;
  const errors = (names: string[]): string => {
    if (names.includes('Lambda.ServiceException')) {
      lambdaTransient ??= names;
      if (names.join() === lambdaTransient.join()) return 'Lambda transient';
    }
    return list(names);
  };
  const retrier = (r: AslRetrier): string => {
    const attempts = r.MaxAttempts ?? 3;
    return (
      `${errors(r.ErrorEquals)}: ${r.IntervalSeconds ?? 1} s, ×${r.BackoffRate ?? 2}` +
      `${r.MaxDelaySeconds !== undefined ? `, cap ${r.MaxDelaySeconds} s` : ''}, ${attempts} ${attempts === 1 ? 'retry' : 'retries'}` +
      `${r.JitterStrategy === 'FULL' ? ', full jitter' : ''}`
    );
  };
  const rows: string[][] = [];
  for (const [machine, definition] of Object.entries(machines))
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      const key = lambdaFunctionKey(state);
      rows.push([
        machine,
        code(name),
        key ? `Lambda ${code(key)}` : code((state.Resource ?? '').replace(/^arn:aws:states:::/, '')),
        state.TimeoutSeconds !== undefined ? `${state.TimeoutSeconds} s` : '',
        (state.Retry ?? []).map(retrier).join('<br>'),
        (state.Catch ?? []).map((c) => `${errors(c.ErrorEquals)} → ${code(c.Next)}`).join('<br>'),
      ]);
    }
  const table = mdTable(['Workflow', 'State', 'Runs', 'Timeout', 'Retry (first wait, growth, cap, retries)', 'Catch'], rows);
  return lambdaTransient
    ? `${table}

Lambda transient: ${list(lambdaTransient)}.`
    : table;
};

// ---------------------------------------------------------------------------------------------------------------------
// The Markdown blocks: name -> the modules it is written from, and the text.

interface Block {
  from: string;
  render: (root: string) => string;
}

export const BLOCKS: Record<string, Block> = {
  statuses: {
    from: 'functions/contract/statuses.js',
    render: () =>
      [
        mdTable(
          ['Status', 'Meaning'],
          STATUSES.map((status) => [code(status), text(STATUS_MEANINGS[status])]),
        ),
        '',
        `A DELETE deletes the cluster from ${either(DELETABLE)}, and cancels the provisioning from ${either(CANCELLABLE)}.`,
      ].join('\n'),
  },
  transitions: {
    from: 'functions/contract/statuses.js',
    render: () =>
      mdTable(
        ['From', 'To'],
        STATUSES.map((from) => [
          code(from),
          TRANSITIONS[from].length === 0
            ? '(none)'
            : TRANSITIONS[from]
                .map((to) => (to === 'DELETING' && (CANCELLABLE as readonly string[]).includes(from) ? `${code(to)} (cancel)` : code(to)))
                .join(', '),
        ]),
      ),
  },
  'wait-reasons': {
    from: 'functions/contract/statuses.js',
    render: () =>
      mdTable(
        ['`lastError.reason`', 'Meaning'],
        WAIT_REASONS.map((reason) => [code(reason), text(WAIT_REASON_MEANINGS[reason])]),
      ),
  },
  errors: {
    from: 'functions/contract/errors.js',
    render: () =>
      mdTable(
        ['Name', 'Retryable', 'Meaning', 'HTTP'],
        ERROR_NAMES.map((name) => {
          const { retryable, meaning, http } = ERRORS[name] as {
            retryable: boolean;
            meaning: string;
            http?: { status: number; code: string };
          };
          return [code(name), retryable ? 'yes' : 'no', text(meaning), http ? `${http.status} ${code(http.code)}` : '—'];
        }),
      ),
  },
  'http-errors': {
    from: 'functions/contract/errors.js and the HttpError answers under functions/',
    render: (root) =>
      mdTable(
        ['Status', '`code`', 'From'],
        errorCodes(root).map((entry) => [String(entry.status), code(entry.code), entry.from]),
      ),
  },
  routes: {
    from: 'functions/contract/routes.js and the responses of functions/handlers/http/openapi.json',
    render: (root) => {
      const openapi = readJson(root, OUTPUTS.openapi) as {
        paths: Record<string, Record<string, { parameters?: QueryParameter[]; responses?: Record<string, { description?: string }> }>>;
      };
      return ROUTES.map((route) => {
        const operation = openapi.paths[route.path]?.[route.method.toLowerCase()];
        const responses = operation?.responses ?? {};
        const statuses = Object.keys(responses).sort();
        const query = (operation?.parameters ?? []).filter((parameter) => parameter.in === 'query').map(queryParameter);
        return [
          `**${code(routeKey(route))}** (function ${code(route.functionKey)}): ${text(route.summary)}.`,
          ...(query.length > 0 ? ['', `Query parameters: ${query.join(', ')}.`] : []),
          '',
          mdTable(
            ['Status', 'Answer'],
            statuses.map((status) => [status, text(responses[status]?.description ?? '')]),
          ),
        ].join('\n');
      }).join('\n\n');
    },
  },
  'workflow-retries': {
    from: 'statemachines/provision-cluster.asl.json and delete-cluster.asl.json (as committed, before settings)',
    render: workflowRetries,
  },
  settings: {
    from: 'statemachines/definitions.js (SETTINGS) and the committed statemachines/*.asl.json',
    render: () =>
      mdTable(
        ['Parameter', 'Workflow', 'Default', 'Meaning', 'Lands in'],
        Object.entries(SETTINGS).map(([name, setting]) => [
          code(name),
          setting.machine,
          code(String(settingDefault(name))),
          text(setting.description),
          setting.paths.map((path) => code(path.slice(1).join('.'))).join(', '),
        ]),
      ),
  },
  environment: {
    from: 'functions/contract/environment.js (ENV, VARIABLES) and, for the local settings, local/settings.ts',
    render: () =>
      mdTable(
        ['variable', 'read by', 'deployed', 'local stack', 'meaning'],
        (Object.keys(ENV) as EnvKey[]).map((key) => {
          const { readBy, deployed, unset, meaning } = VARIABLES[key];
          return [
            code(ENV[key]),
            readBy === 'all' ? 'every function' : readBy.map(code).join(', '),
            deployedText(deployed, unset),
            localText(key),
            text(meaning),
          ];
        }),
      ),
  },
  'local-settings': {
    from: 'local/settings.ts (LOCAL_SETTINGS)',
    render: () =>
      mdTable(
        ['variable', 'default', 'meaning'],
        Object.entries(LOCAL_SETTINGS).map(([name, setting]) => [code(name), code(setting.shown), text(setting.meaning)]),
      ),
  },
  events: {
    from: 'functions/core/events.ts (DETAIL_TYPES, EVENT_SOURCE) and the descriptions of functions/core/event-schemas/*.schema.json',
    render: (root) =>
      [
        `Source of every event the system puts on its bus: ${code(EVENT_SOURCE)}.`,
        '',
        mdTable(
          ['Detail-type', 'Direction', 'When', 'Detail schema'],
          (Object.entries(DETAIL_TYPES) as [DetailTypeKey, string][]).map(([key, detailType]) => {
            const incoming = INCOMING[key];
            const file = incoming ?? `${OUTPUTS.eventSchemas}/${schemaFileOf(detailType)}`;
            const description = incoming
              ? `A request put on the bus by anyone allowed to; the rule feeds it to ${code('eventSubmit')}.`
              : String(readJson(root, file).description ?? '');
            return [code(detailType), incoming ? 'in' : 'out', text(description), code(file)];
          }),
        ),
      ].join('\n'),
  },
  table: {
    from: 'functions/contract/table.js',
    render: () => {
      const indexes = table.GlobalSecondaryIndexes;
      const role = (attribute: string): string => {
        const roles: string[] = [];
        if (table.KeySchema.some((key) => key.AttributeName === attribute && key.KeyType === 'HASH'))
          roles.push('partition key of the table');
        const partitionOf = indexes.filter((index) =>
          index.KeySchema.some((key) => key.AttributeName === attribute && key.KeyType === 'HASH'),
        );
        if (partitionOf.length > 0) roles.push(`partition key of ${list(partitionOf.map((index) => index.IndexName))}`);
        const sortOf = indexes.filter((index) => index.KeySchema.some((key) => key.AttributeName === attribute && key.KeyType === 'RANGE'));
        if (sortOf.length > 0) roles.push(`sort key of ${list(sortOf.map((index) => index.IndexName))}`);
        if (attribute === INDEX_PARTITION_KEYS.byAll) roles.push(`always ${code(CLUSTER_RECORD_TYPE)}`);
        if ((INTERNAL_ATTRIBUTES as readonly string[]).includes(attribute)) roles.push("the store's own, not part of a record");
        return roles.join('; ');
      };
      return [
        `Billing: ${code(table.BillingMode)}.`,
        '',
        mdTable(
          ['Attribute', 'Type', 'Role'],
          table.AttributeDefinitions.map((attribute) => [
            code(attribute.AttributeName),
            attribute.AttributeType,
            role(attribute.AttributeName),
          ]),
        ),
        '',
        mdTable(
          ['Index', 'Partition key', 'Sort key', 'Projection'],
          indexes.map((index) => [
            code(index.IndexName),
            code(index.KeySchema.find((key) => key.KeyType === 'HASH')?.AttributeName ?? ''),
            code(index.KeySchema.find((key) => key.KeyType === 'RANGE')?.AttributeName ?? ''),
            index.Projection.ProjectionType,
          ]),
        ),
      ].join('\n');
    },
  },
  'hyperpod-errors': {
    from: 'functions/adapters/hyperpod-errors.ts (HYPERPOD_ERROR_TABLE) and functions/contract/errors.js',
    render: () => errorRows(HYPERPOD_ERROR_TABLE as readonly TableRow[]),
  },
  'tir-errors': {
    from: 'functions/adapters/tir-wire.ts (TIR_ERROR_TABLE) and functions/contract/errors.js',
    render: () => errorRows(TIR_ERROR_TABLE as readonly TableRow[]),
  },
  'tir-assumptions': {
    from: 'functions/adapters/tir-wire.ts (TIR_ASSUMPTIONS)',
    render: () =>
      mdTable(
        ['Topic', 'Assumed (not in the published examples)', 'The safe side'],
        TIR_ASSUMPTIONS.map((row) => [text(row.topic), text(row.assumed), text(row.safeSide)]),
      ),
  },
};

const MARKER = /<!-- (\/?)generated:([a-z0-9-]+) -->/g;

/** The Markdown text with every generated block rewritten; the names of the blocks it holds, in order. */
export const renderBlocks = (markdown: string, file: string, root = ROOT): { text: string; blocks: string[] } => {
  const blocks: string[] = [];
  let out = '';
  let at = 0;
  let open: { name: string; end: number } | undefined;
  for (const match of markdown.matchAll(MARKER)) {
    const [marker, closing, name] = match as unknown as [string, string, string];
    const index = match.index;
    if (!closing) {
      if (open) throw new Error(`${file}: generated:${name} opens inside generated:${open.name}`);
      const block = BLOCKS[name];
      if (!block) throw new Error(`${file}: no generated block is called "${name}" (known: ${Object.keys(BLOCKS).join(', ')})`);
      open = { name, end: index + marker.length };
      out += markdown.slice(at, open.end);
      out += `\n<!-- written by scripts/generate-docs.ts from ${block.from}: edit the source and run npm run generate -->\n`;
      out += `${block.render(root)}\n`;
      blocks.push(name);
    } else {
      if (!open || open.name !== name) throw new Error(`${file}: /generated:${name} closes ${open ? `generated:${open.name}` : 'nothing'}`);
      at = index;
      open = undefined;
    }
  }
  if (open) throw new Error(`${file}: generated:${open.name} is never closed`);
  out += markdown.slice(at);
  return { text: out, blocks };
};

/** The Markdown files that may hold blocks. */
export const markdownFiles = (root = ROOT): string[] => [
  OUTPUTS.readme,
  ...readdirSync(join(root, OUTPUTS.docs))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `${OUTPUTS.docs}/${name}`),
];

// ---------------------------------------------------------------------------------------------------------------------
// The JSON documents: generated parts patched in place.

/** `{...old, ...fresh}`: the keys the generator owns take fresh values, the hand-written keys (and the order) stay. */
const patched = (old: unknown, fresh: Json): Json => ({ ...((old ?? {}) as Json), ...fresh });

const walk = (node: unknown, pointer: string, visit: (node: Json, pointer: string) => void): void => {
  if (Array.isArray(node)) node.forEach((item, i) => walk(item, `${pointer}/${i}`, visit));
  else if (node !== null && typeof node === 'object') {
    visit(node as Json, pointer);
    for (const [key, value] of Object.entries(node)) walk(value, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, visit);
  }
};

/** Stops on a hand-written enum or const restating a contract list, or a requestId with its own pattern. */
const guardRestatements = (doc: Json, file: string, generated: Set<string>, codes: readonly string[]): void => {
  const contract = new Set<string>([...STATUSES, ...PROVIDERS, ...codes]);
  walk(doc, '', (node, pointer) => {
    if (generated.has(pointer)) return;
    if (Array.isArray(node.enum) && node.enum.some((value) => contract.has(value as string)))
      throw new Error(`${file}#${pointer}: a hand-written enum restates statuses, providers or error codes: use the generated one`);
    const properties = node.properties as Json | undefined;
    const requestId = properties?.requestId as Json | undefined;
    if (requestId && 'pattern' in requestId && !generated.has(`${pointer}/properties/requestId`))
      throw new Error(`${file}#${pointer}/properties/requestId: a hand-written requestId pattern: use the generated one`);
    const provider = (properties?.provider as Json | undefined)?.const;
    if (provider !== undefined && !(PROVIDERS as readonly unknown[]).includes(provider))
      throw new Error(`${file}#${pointer}/properties/provider: "${String(provider)}" is not a provider of functions/contract/providers.js`);
  });
};

type Operation = Json & { responses?: Json };

export const openApiDocument = (current: Json, root = ROOT): Json => {
  const codes = errorCodes(root);
  const components = (current.components ?? {}) as Json;
  const schemas = (components.schemas ?? {}) as Json;
  const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
  const oldPaths = (current.paths ?? {}) as Record<string, Json>;

  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    const method = route.method.toLowerCase();
    const old = oldPaths[route.path] ?? {};
    const operation = old[method] as Operation | undefined;
    if (!operation?.responses)
      throw new Error(`${OUTPUTS.openapi} has no responses for ${routeKey(route)}: write the operation by hand, then generate`);
    if (!paths[route.path]) {
      const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
      const parameters = [
        ...names.map((name) => {
          if (name !== 'requestId') throw new Error(`${routeKey(route)}: no schema is known for the path parameter {${name}}`);
          return { name, in: 'path', required: true, schema: ref('RequestId') };
        }),
        ...((old.parameters as Json[] | undefined) ?? []).filter((parameter) => parameter.in !== 'path'),
      ];
      const { parameters: _old, ...rest } = old;
      const kept = Object.fromEntries(
        Object.entries(rest).filter(([key]) => !['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'].includes(key)),
      );
      paths[route.path] = { ...(parameters.length > 0 ? { parameters } : {}), ...kept };
    }
    paths[route.path]![method] = patched(operation, { summary: route.summary });
  }

  const generatedSchemas: Record<string, Json> = {
    RequestId: { type: 'string', pattern: REQUEST_ID_PATTERN },
    Provider: { type: 'string', enum: [...PROVIDERS] },
    Status: { type: 'string', enum: [...STATUSES] },
    WaitReason: { type: 'string', enum: [...WAIT_REASONS] },
    ErrorCode: { type: 'string', enum: codes.map((entry) => entry.code) },
  };
  const doc: Json = {
    ...current,
    paths,
    components: {
      ...components,
      schemas: {
        ...Object.fromEntries(Object.entries(generatedSchemas).map(([name, fresh]) => [name, patched(schemas[name], fresh)])),
        ...Object.fromEntries(Object.entries(schemas).filter(([name]) => !Object.hasOwn(generatedSchemas, name))),
      },
    },
  };
  const generated = new Set(Object.keys(generatedSchemas).map((name) => `/components/schemas/${name}`));
  guardRestatements(
    doc,
    OUTPUTS.openapi,
    generated,
    codes.map((entry) => entry.code),
  );
  return doc;
};

export const eventSchema = (file: string, current: Json, root = ROOT): Json => {
  const entry = (Object.entries(DETAIL_TYPES) as [DetailTypeKey, string][]).find(([, type]) => schemaFileOf(type) === file);
  if (!entry) throw new Error(`${OUTPUTS.eventSchemas}/${file} is the schema of no detail-type in functions/core/events.ts`);
  const [key, detailType] = entry;
  const doc: Json = { ...current, title: detailType };
  const generated = new Set<string>();
  if (Object.hasOwn(EVENT_STATUS, key)) {
    const properties = (current.properties ?? {}) as Json;
    doc.properties = {
      ...properties,
      requestId: patched(properties.requestId, { type: 'string', pattern: REQUEST_ID_PATTERN }),
      provider: patched(properties.provider, { enum: [...PROVIDERS] }),
      status: patched(properties.status, { enum: [EVENT_STATUS[key as keyof typeof EVENT_STATUS]] }),
    };
    for (const name of ['requestId', 'provider', 'status']) generated.add(`/properties/${name}`);
  }
  guardRestatements(
    doc,
    `${OUTPUTS.eventSchemas}/${file}`,
    generated,
    errorCodes(root).map((c) => c.code),
  );
  return doc;
};

// ---------------------------------------------------------------------------------------------------------------------

const jsonText = (doc: unknown): string => `${JSON.stringify(doc, null, 2)}\n`;

/** Every file this generator writes (path relative to the root) with the content it produces now. */
export const generate = (root = ROOT): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const file of markdownFiles(root)) {
    const { text: rendered, blocks } = renderBlocks(readFileSync(join(root, file), 'utf8'), file, root);
    if (blocks.length > 0) out[file] = rendered;
  }
  out[OUTPUTS.openapi] = jsonText(openApiDocument(readJson(root, OUTPUTS.openapi), root));

  const files = readdirSync(join(root, OUTPUTS.eventSchemas))
    .filter((name) => name.endsWith('.schema.json'))
    .sort();
  for (const [key, detailType] of Object.entries(DETAIL_TYPES) as [DetailTypeKey, string][])
    if (!INCOMING[key] && !files.includes(schemaFileOf(detailType)))
      throw new Error(`"${detailType}" has no schema: write ${OUTPUTS.eventSchemas}/${schemaFileOf(detailType)}`);
  for (const file of files) {
    const path = `${OUTPUTS.eventSchemas}/${file}`;
    out[path] = jsonText(eventSchema(file, readJson(root, path), root));
  }
  return out;
};

/** The block names each Markdown file holds. */
export const blocksByFile = (root = ROOT): Record<string, string[]> =>
  Object.fromEntries(markdownFiles(root).map((file) => [file, renderBlocks(readFileSync(join(root, file), 'utf8'), file, root).blocks]));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [path, content] of Object.entries(generate())) {
    if (readFileSync(join(ROOT, path), 'utf8') === content) continue;
    writeFileSync(join(ROOT, path), content);
    console.log(`wrote ${path}`);
  }
}
