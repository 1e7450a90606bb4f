/**
 * The documents that restate code are current: every generated Markdown block and every generated part of the OpenAPI
 * document and the event schemas is what scripts/generate-docs.ts produces now from the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS, ERROR_NAMES } from '../../functions/contract/errors.js';
import { PROVIDERS } from '../../functions/contract/providers.js';
import { REQUEST_ID, REQUEST_ID_PATTERN } from '../../functions/contract/request-id.js';
import { ROUTES } from '../../functions/contract/routes.js';
import { STATUSES, WAIT_REASONS } from '../../functions/contract/statuses.js';
import { DETAIL_TYPES } from '../../functions/core/events';
import { BLOCKS, blocksByFile, generate, openApiDocument, OUTPUTS, renderBlocks, ROOT } from '../../scripts/generate-docs';

const generated = generate();
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
const json = <T>(path: string): T => JSON.parse(read(path)) as T;

/** Where two texts first differ, as a line number and both lines, for a stale file's message. */
const firstDifference = (committed: string, fresh: string): string => {
  const a = committed.split('\n');
  const b = fresh.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const at = line === -1 ? a.length : line;
  return `line ${at + 1}: committed ${JSON.stringify(a[at] ?? '(end)')}, generated ${JSON.stringify(b[at] ?? '(end)')}`;
};

describe('the generated documents', () => {
  it.each(Object.keys(generated))('%s is what `npm run generate` produces now', (path) => {
    const committed = read(path);
    const fresh = generated[path] ?? '';
    expect(committed === fresh, `${path} is stale (${firstDifference(committed, fresh)}): run npm run generate`).toBe(true);
  });

  it('holds every block exactly once across README.md and docs/', () => {
    const places = Object.entries(blocksByFile()).flatMap(([file, blocks]) => blocks.map((block) => `${block} in ${file}`));
    for (const name of Object.keys(BLOCKS)) {
      expect(
        places.filter((place) => place.startsWith(`${name} in `)),
        `block ${name}`,
      ).toHaveLength(1);
    }
  });

  it('covers the OpenAPI document and every event schema', () => {
    expect(Object.keys(generated)).toContain(OUTPUTS.openapi);
    const outgoing = Object.entries(DETAIL_TYPES).filter(([key]) => key !== 'requested');
    expect(Object.keys(generated).filter((path) => path.startsWith(`${OUTPUTS.eventSchemas}/`))).toHaveLength(outgoing.length);
  });
});

describe('the OpenAPI document, from the contract', () => {
  const openapi = json<{
    paths: Record<string, Record<string, { summary?: string }>>;
    components: { schemas: Record<string, { enum?: string[]; pattern?: string }> };
  }>(OUTPUTS.openapi);

  it('documents exactly the routes of functions/contract/routes.js, with their summaries', () => {
    const documented = Object.entries(openapi.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== 'parameters')
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(ROUTES.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of ROUTES) expect(openapi.paths[route.path]?.[route.method.toLowerCase()]?.summary).toBe(route.summary);
  });

  it('has the statuses, providers, wait reasons and requestId pattern of the contract', () => {
    const { schemas } = openapi.components;
    expect(schemas.Status?.enum).toEqual([...STATUSES]);
    expect(schemas.Provider?.enum).toEqual([...PROVIDERS]);
    expect(schemas.WaitReason?.enum).toEqual([...WAIT_REASONS]);
    expect(schemas.RequestId?.pattern).toBe(REQUEST_ID_PATTERN);
  });

  it("lists every error code the contract answers, and the HTTP layer's own", () => {
    const codes = openapi.components.schemas.ErrorCode?.enum ?? [];
    for (const name of ERROR_NAMES) {
      const http = (ERRORS[name] as { http?: { code: string } }).http;
      if (http) expect(codes).toContain(http.code);
    }
    expect(codes).toEqual(expect.arrayContaining(['MalformedBody', 'UnsupportedMediaType', 'PayloadTooLarge', 'InternalError']));
  });

  it('refuses a hand-written enum that restates the statuses', () => {
    const current = json<Record<string, unknown>>(OUTPUTS.openapi);
    const restating = structuredClone(current) as { components: { schemas: Record<string, unknown> } };
    restating.components.schemas.Mine = { enum: ['READY', 'FAILED'] };
    expect(() => openApiDocument(restating)).toThrow(/restates statuses, providers or error codes/);
  });
});

describe('the event schemas, from the contract', () => {
  const files: Record<string, string> = {
    ready: 'READY',
    failed: 'FAILED',
    deleted: 'DELETED',
    deleteFailed: 'FAILED',
  };

  it.each(Object.entries(files))('%s: the title, requestId pattern, providers and status', (key, status) => {
    const detailType = DETAIL_TYPES[key as keyof typeof DETAIL_TYPES];
    const schema = json<{ title: string; properties: Record<string, { enum?: string[]; pattern?: string }> }>(
      `${OUTPUTS.eventSchemas}/${detailType.toLowerCase().replace(/ /g, '-')}.schema.json`,
    );
    expect(schema.title).toBe(detailType);
    expect(schema.properties.requestId?.pattern).toBe(REQUEST_ID_PATTERN);
    expect(schema.properties.provider?.enum).toEqual([...PROVIDERS]);
    expect(schema.properties.status?.enum).toEqual([status]);
  });
});

describe('renderBlocks', () => {
  it('replaces what is between the markers and keeps the rest', () => {
    const { text, blocks } = renderBlocks(
      'before\n<!-- generated:wait-reasons -->\nstale\n<!-- /generated:wait-reasons -->\nafter\n',
      'x.md',
    );
    expect(blocks).toEqual(['wait-reasons']);
    expect(text).not.toContain('stale');
    expect(text).toMatch(/^before\n<!-- generated:wait-reasons -->\n/);
    expect(text).toMatch(/\| `name-in-use` \|/);
    expect(text).toMatch(/<!-- \/generated:wait-reasons -->\nafter\n$/);
  });

  it('stops on an unknown block, an unclosed block and a mismatched close', () => {
    expect(() => renderBlocks('<!-- generated:nope -->\n<!-- /generated:nope -->', 'x.md')).toThrow(/no generated block is called "nope"/);
    expect(() => renderBlocks('<!-- generated:errors -->\n', 'x.md')).toThrow(/never closed/);
    expect(() => renderBlocks('<!-- generated:errors -->\n<!-- /generated:statuses -->', 'x.md')).toThrow(/closes generated:errors/);
  });
});

describe('the request schema, against the contract', () => {
  it('accepts exactly the requestIds REQUEST_ID_PATTERN accepts', () => {
    const schema = json<{ properties: { requestId: { pattern: string; minLength: number; maxLength: number } } }>(OUTPUTS.request);
    const { pattern, minLength, maxLength } = schema.properties.requestId;
    const accepts = (id: string): boolean => new RegExp(pattern, 'u').test(id) && id.length >= minLength && id.length <= maxLength;
    for (const id of ['', 'a', 'A_b-9', 'x'.repeat(64), 'x'.repeat(65), 'a b', 'é', 'a/b', 'a.b', '-_-']) {
      expect(accepts(id), JSON.stringify(id)).toBe(REQUEST_ID.test(id));
    }
  });
});
