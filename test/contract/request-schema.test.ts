import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { validate as compiled } from '../../functions/contract/request.validator';
import { ROOT } from '../../scripts/generate-contract';

const read = (path: string): unknown => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));
const SCHEMA_PATH = 'functions/contract/request.schema.json';
const schema = read(SCHEMA_PATH) as Record<string, unknown>;

/** The schema compiled the ordinary way, as an editor or an API tool would: the reference for the standalone module. */
const ajv = new Ajv2020({ allErrors: true, ownProperties: true, strictRequired: false });
addFormats(ajv, ['date-time']);
const fresh = ajv.compile(schema);

const requests = [
  ...readdirSync(join(ROOT, 'examples')).map((file) => `examples/${file}`),
  ...readdirSync(join(ROOT, 'test/fixtures/requests'))
    .filter((file) => file.endsWith('.json') && file !== 'not-json.json')
    .map((file) => `test/fixtures/requests/${file}`),
];

const errorsOf = (validate: { (data: unknown): boolean; errors?: unknown[] | null }, data: unknown) => {
  validate(data);
  return (validate.errors ?? []).map((e) => {
    const { instancePath, keyword, params } = e as { instancePath: string; keyword: string; params: unknown };
    return { instancePath, keyword, params };
  });
};

/** The standalone module leaves uniqueItems to the refinements in code (linear, reported at each later duplicate). */
const freshErrorsOf = (data: unknown) => errorsOf(fresh, data).filter((e) => e.keyword !== 'uniqueItems');

describe('functions/contract/request.schema.json', () => {
  it('is a valid JSON Schema 2020-12 document', () => {
    expect(ajv.validateSchema(schema)).toBe(true);
  });

  it.each(requests)('the standalone validator finds in %s exactly what a fresh compile of the schema finds', (file) => {
    const data = read(file);
    expect(errorsOf(compiled, data)).toEqual(freshErrorsOf(data));
  });

  it('the standalone validator agrees on a long list of bad items (errors gathered in place, in order)', () => {
    const data = read('examples/tir-minimal.json') as { cluster: { ssh_key_ids: unknown[] } };
    data.cluster.ssh_key_ids = Array.from({ length: 500 }, (_, i) => (i % 3 ? 'x' : i));
    expect(errorsOf(compiled, data)).toEqual(freshErrorsOf(data));
    expect(errorsOf(compiled, data).length).toBeGreaterThan(300);
  });

  it('the examples name it as their $schema, so editors check and document them', () => {
    for (const file of requests.filter((path) => path.startsWith('examples/')))
      expect(resolve(ROOT, dirname(file), (read(file) as { $schema: string }).$schema)).toBe(join(ROOT, SCHEMA_PATH));
  });

  it('is the body of POST /clusters in the OpenAPI document', () => {
    const openapi = read('functions/handlers/http/openapi.json') as {
      paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: { $ref: string } }> } }>>;
      components: { schemas: Record<string, { $ref?: string }> };
    };
    const body = openapi.paths['/clusters']?.post?.requestBody.content['application/json']?.schema.$ref;
    expect(body).toBe('#/components/schemas/ProvisionRequest');
    const target = openapi.components.schemas.ProvisionRequest?.$ref ?? '';
    expect(resolve(ROOT, 'functions/handlers/http', target)).toBe(join(ROOT, SCHEMA_PATH));
  });
});
