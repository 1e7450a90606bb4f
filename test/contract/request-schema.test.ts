import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { validate as compiled } from '../../functions/contract/request.validator';
import { RULE_MESSAGES } from '../../functions/core/validate/messages';
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

/**
 * The standalone module leaves uniqueItems to the refinements in code (linear, reported at each later duplicate; the
 * reasons are at NOT_COMPILED in scripts/generate-contract.ts).
 */
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

  /** Each rule between members, broken on a valid example: the pointer an editor's check names (required: the member). */
  const RULES: Array<{ rule: string; file: string; edit: (r: any) => void; pointer: string }> = [
    {
      rule: 'an instance group with InstanceType and InstanceRequirements',
      file: 'examples/hyperpod-minimal.json',
      edit: (r) => {
        r.cluster.InstanceGroups[0].InstanceRequirements = { InstanceTypes: ['ml.p5.48xlarge'] };
      },
      pointer: '/cluster/InstanceGroups/0/InstanceRequirements',
    },
    {
      rule: 'an instance group with neither',
      file: 'examples/hyperpod-minimal.json',
      edit: (r) => {
        delete r.cluster.InstanceGroups[0].InstanceType;
      },
      pointer: '/cluster/InstanceGroups/0/InstanceType',
    },
    {
      rule: 'a root volume with a size',
      file: 'examples/hyperpod-minimal.json',
      edit: (r) => {
        r.cluster.InstanceGroups[0].InstanceStorageConfigs = [
          { EbsVolumeConfig: { RootVolume: true, VolumeKmsKeyId: 'k', VolumeSizeInGB: 9 } },
        ];
      },
      pointer: '/cluster/InstanceGroups/0/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB',
    },
    {
      rule: 'a root volume without a KMS key',
      file: 'examples/hyperpod-minimal.json',
      edit: (r) => {
        r.cluster.InstanceGroups[0].InstanceStorageConfigs = [{ EbsVolumeConfig: { RootVolume: true } }];
      },
      pointer: '/cluster/InstanceGroups/0/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeKmsKeyId',
    },
    {
      rule: 'an extra volume without a size',
      file: 'examples/hyperpod-minimal.json',
      edit: (r) => {
        r.cluster.InstanceGroups[0].InstanceStorageConfigs = [{ EbsVolumeConfig: { RootVolume: false } }];
      },
      pointer: '/cluster/InstanceGroups/0/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB',
    },
    ...['provisioner:request-id', 'provisioner:deployment', 'aws:team', 'Aws:team'].map((key) => ({
      rule: `the tag key ${key}`,
      file: 'examples/hyperpod-minimal.json',
      edit: (r: any) => {
        r.cluster.Tags = [{ Key: key, Value: 'v' }];
      },
      pointer: '/cluster/Tags/0/Key',
    })),
    {
      rule: 'script_added without a lifecycle_script',
      file: 'examples/tir-minimal.json',
      edit: (r) => {
        r.cluster.script_added = true;
        delete r.cluster.lifecycle_script;
      },
      pointer: '/cluster/lifecycle_script',
    },
    {
      rule: 'script_added with a blank lifecycle_script',
      file: 'examples/tir-minimal.json',
      edit: (r) => {
        r.cluster.script_added = true;
        r.cluster.lifecycle_script = ' \n\t';
      },
      pointer: '/cluster/lifecycle_script',
    },
    {
      rule: 'hold on TIR',
      file: 'examples/tir-minimal.json',
      edit: (r) => {
        r.capacityStrategy = 'hold';
      },
      pointer: '/capacityStrategy',
    },
    ...[
      { rule: 'a webhook without its secret', target: { webhook: 'https://hooks.example.com/' }, pointer: '/notify/0/secret' },
      {
        rule: 'an SNS topic with a secret',
        target: { sns: 'arn:aws:sns:us-east-1:123456789012:t', secret: 's' },
        pointer: '/notify/0/secret',
      },
      { rule: 'a secret name with a space', target: { webhook: 'https://h.example.com/', secret: 'a b' }, pointer: '/notify/0/secret' },
      { rule: 'a queue ARN for a topic', target: { sns: 'arn:aws:sqs:us-east-1:123456789012:q' }, pointer: '/notify/0/sns' },
    ].map(({ rule, target, pointer }) => ({
      rule,
      file: 'examples/tir-minimal.json',
      edit: (r: any) => {
        r.notify = [target];
      },
      pointer,
    })),
  ];

  const pointersOf = (validate: { (data: unknown): boolean; errors?: unknown[] | null }, data: unknown) =>
    errorsOf(validate, data)
      .filter((e) => e.keyword !== 'if')
      .map((e) =>
        e.keyword === 'required' ? `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}` : e.instancePath,
      );

  it.each(RULES)('states the rule, so that an editor finds it too: $rule', ({ file, edit, pointer }) => {
    const data = structuredClone(read(file));
    expect(pointersOf(fresh, data)).toEqual([]);
    edit(data);
    expect(pointersOf(fresh, data)).toEqual([pointer]);
    expect(pointersOf(compiled, data)).toEqual([pointer]);
  });

  it('names in RULE_MESSAGES only rules the schema has', () => {
    for (const key of Object.keys(RULE_MESSAGES)) {
      const [def = '', tail = ''] = key.split('#');
      const segments = tail.slice(1).split('/');
      const keyword = segments.at(-1);
      let node: unknown = def === '' ? schema : (schema.$defs as Record<string, unknown>)[def];
      for (const segment of keyword === 'false schema' ? segments.slice(0, -1) : segments)
        node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
      if (keyword === 'false schema') expect(node, key).toBe(false);
      else expect(node, key).toBeDefined();
    }
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
