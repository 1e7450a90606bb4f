import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../../functions/core/errors';
import { HYPERPOD_INSTANCE_TYPES } from '../../functions/core/hyperpod-instance-types';
import { durationSeconds, parseRequest, validateRequest } from '../../functions/core/validate';
import REQUEST_SCHEMA from '../../functions/contract/request.schema.json' with { type: 'json' };

// ---- valid bases: every optional field set, so each case below differs from a valid request by its edits alone ----

const ROLE = 'arn:aws:iam::123456789012:role/HyperPodExecutionRole';
// The documented minimum lengths of the ARNs (20) are below what their patterns allow (31 for a role, 35 for an EKS
// cluster), so a 20-character ARN cannot be valid: the cases test 19 (length error) and the shortest valid ARN instead.
const ROLE_PREFIX = 'arn:aws:iam::123456789012:role/';
const EKS_ARN = 'arn:aws:eks:us-east-1:123456789012:cluster/ml-platform';
const PLAN_PREFIX = 'arn:aws:sagemaker::123456789012:training-plan/'; // the region may be empty

const GROUP = {
  InstanceGroupName: 'workers',
  InstanceCount: 2,
  InstanceType: 'ml.g5.2xlarge',
  LifeCycleConfig: { SourceS3Uri: 's3://sagemaker-demo/lifecycle/', OnCreate: 'on_create.sh' },
  ExecutionRole: ROLE,
  ThreadsPerCore: 1,
  InstanceStorageConfigs: [{ EbsVolumeConfig: { VolumeSizeInGB: 500 } }],
  OnStartDeepHealthChecks: ['InstanceStress'],
  TrainingPlanArn: `${PLAN_PREFIX}plan-1`,
  OverrideVpcConfig: { SecurityGroupIds: ['sg-0123456789abcdef0'], Subnets: ['subnet-0123456789abcdef0'] },
};

const SAGEMAKER = {
  requestId: 'req-demo-1',
  provider: 'sagemaker',
  region: 'us-east-1',
  startAt: '2026-12-01T08:00:00Z',
  deleteAfter: 'PT8H',
  cluster: {
    ClusterName: 'demo',
    InstanceGroups: [GROUP],
    Tags: [{ Key: 'team', Value: 'ml' }],
    VpcConfig: { SecurityGroupIds: ['sg-0123456789abcdef0'], Subnets: ['subnet-0123456789abcdef0'] },
    Orchestrator: { Eks: { ClusterArn: EKS_ARN } },
    NodeRecovery: 'Automatic',
  },
};

const TIR = {
  requestId: 'req-tir-1',
  provider: 'tir',
  projectId: 12345,
  location: 'Delhi',
  activeIam: 7,
  startAt: '2026-12-01T08:00:00+05:30',
  deleteAfter: 'P1D',
  cluster: {
    name: 'demo-tir',
    image_version_id: 101,
    ssh_key_ids: [2001, 2002],
    security_group_id: 301,
    sku_id: 401,
    no_of_nodes: 2,
    sku_item_price_id: 501,
    script_added: true,
    lifecycle_script: '#!/bin/bash\necho ready\n',
    sfs_mount_list: [{ id: 11, name: 'shared', mount_path: '/mnt/shared' }],
    pfs_mount_list: [{ id: 21 }],
    dataset_mount_list: [{ id: 31 }],
  },
};

// ---- editing a copy of a base at an RFC 6901 pointer ----

type Edit = { op: 'set'; pointer: string; value: unknown } | { op: 'delete'; pointer: string };
const set = (pointer: string, value: unknown): Edit => ({ op: 'set', pointer, value });
const del = (pointer: string): Edit => ({ op: 'delete', pointer });

const keysOf = (pointer: string): string[] =>
  pointer
    .split('/')
    .slice(1)
    .map((key) => key.replace(/~1/g, '/').replace(/~0/g, '~'));

const edited = (base: object, edits: Edit[]): unknown => {
  const copy = structuredClone(base) as Record<string, unknown>;
  for (const edit of edits) {
    const keys = keysOf(edit.pointer);
    const last = keys.pop() as string;
    let parent = copy;
    for (const key of keys) parent = parent[key] as Record<string, unknown>;
    if (edit.op === 'set') parent[last] = edit.value;
    else delete parent[last];
  }
  return copy;
};

interface InvalidCase {
  name: string;
  base?: object;
  edits: Edit[];
  /** The pointer of the error the case is about. */
  path: string;
  /** A fragment its message must contain: the limit, the pattern, the enum. */
  message: string;
  /** Pointers of further errors the same edit causes by necessity (none unless stated). */
  alsoAt?: string[];
}

interface ValidCase {
  name: string;
  base?: object;
  edits: Edit[];
}

const expectOnly = ({ base = SAGEMAKER, edits, path, message, alsoAt = [] }: InvalidCase) => {
  const result = validateRequest(edited(base, edits));
  expect(result.valid).toBe(false);
  expect(result.errors.map((e) => e.path).sort()).toEqual([path, ...alsoAt].sort());
  expect(result.errors.find((e) => e.path === path)?.message).toContain(message);
};

const expectValid = ({ base = SAGEMAKER, edits }: ValidCase) => {
  const result = validateRequest(edited(base, edits));
  expect(result.errors).toEqual([]);
  expect(result.valid).toBe(true);
};

const s = (length: number, char = 'a') => char.repeat(length);
/** `prefix`, then `a` repeated, then `suffix`: exactly `length` characters. */
const ofLength = (length: number, prefix: string, suffix = '') => `${prefix}${s(length - prefix.length - suffix.length)}${suffix}`;
const groups = (count: number) => Array.from({ length: count }, (_, i) => ({ ...GROUP, InstanceGroupName: `group-${i}` }));
const tags = (count: number) => Array.from({ length: count }, (_, i) => ({ Key: `key-${i}`, Value: `value-${i}` }));
const ids = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

const IG = '/cluster/InstanceGroups/0';
const NAME_PATTERN = '^[a-zA-Z0-9](-*[a-zA-Z0-9])*$';
const TAG_PATTERN = String.raw`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`;

describe('validateRequest: the valid bases', () => {
  it('accepts the sagemaker base with every optional field set, with no warnings', () => {
    expect(validateRequest(SAGEMAKER)).toEqual({ valid: true, errors: [], warnings: [], request: SAGEMAKER });
  });

  it('accepts the tir base with every optional field set, with no warnings', () => {
    expect(validateRequest(TIR)).toEqual({ valid: true, errors: [], warnings: [], request: TIR });
  });

  it.each(['hyperpod-minimal.json', 'hyperpod-eks.json', 'tir-minimal.json'])(
    'accepts the shipped example %s with no errors and no warnings',
    (file) => {
      const result = validateRequest(JSON.parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8')));
      expect(result.errors).toEqual([]);
      expect(result.warnings).toEqual([]);
    },
  );
});

describe('validateRequest: top level', () => {
  it.each<ValidCase>([
    { name: 'requestId of 64 characters', edits: [set('/requestId', s(64))] },
    { name: 'requestId of 1 character', edits: [set('/requestId', 'a')] },
    { name: 'requestId with _ and -', edits: [set('/requestId', 'a_B-9')] },
    { name: 'no requestId (derived later)', edits: [del('/requestId')] },
    { name: 'region us-gov-west-1', edits: [set('/region', 'us-gov-west-1')] },
    { name: 'region ap-southeast-2', edits: [set('/region', 'ap-southeast-2')] },
    { name: 'no region', edits: [del('/region')] },
    { name: 'startAt with an offset and fraction', edits: [set('/startAt', '2026-12-01T08:00:00.123-04:00')] },
    { name: 'startAt with lower-case t and z (RFC 3339 allows them)', edits: [set('/startAt', '2026-12-01t08:00:00z')] },
    { name: 'startAt on a leap day', edits: [set('/startAt', '2028-02-29T23:59:59Z')] },
    { name: 'deleteAfter P1D', edits: [set('/deleteAfter', 'P1D')] },
    { name: 'deleteAfter P1DT12H', edits: [set('/deleteAfter', 'P1DT12H')] },
    { name: 'deleteAfter P2W', edits: [set('/deleteAfter', 'P2W')] },
    { name: 'deleteAfter PT1M (the minimum)', edits: [set('/deleteAfter', 'PT1M')] },
    { name: 'deleteAfter PT60S (the minimum in seconds)', edits: [set('/deleteAfter', 'PT60S')] },
    { name: 'deleteAfter P365D (the maximum)', edits: [set('/deleteAfter', 'P365D')] },
    { name: 'deleteAfter P52WT24H (= 365 days)', edits: [set('/deleteAfter', 'P52WT24H')] },
    { name: 'tir location of 64 characters', base: TIR, edits: [set('/location', s(64))] },
    { name: 'tir without activeIam', base: TIR, edits: [del('/activeIam')] },
  ])('accepts $name', expectValid);

  it.each<InvalidCase>([
    {
      name: 'requestId of 65 characters',
      edits: [set('/requestId', s(65))],
      path: '/requestId',
      message: 'at most 64 characters (got 65)',
    },
    { name: 'empty requestId', edits: [set('/requestId', '')], path: '/requestId', message: 'at least 1 character' },
    { name: 'requestId with a space', edits: [set('/requestId', 'a b')], path: '/requestId', message: 'must match ^[A-Za-z0-9_-]+$' },
    { name: 'requestId with a dot', edits: [set('/requestId', 'a.b')], path: '/requestId', message: '^[A-Za-z0-9_-]+$' },
    { name: 'numeric requestId', edits: [set('/requestId', 42)], path: '/requestId', message: 'must be a string (got number)' },
    { name: 'missing provider', edits: [del('/provider')], path: '/provider', message: 'is required', alsoAt: [] },
    { name: 'unknown provider', edits: [set('/provider', 'azure')], path: '/provider', message: 'must be one of: sagemaker, tir' },
    { name: 'missing cluster', edits: [del('/cluster')], path: '/cluster', message: 'is required' },
    { name: 'region in capitals', edits: [set('/region', 'US-EAST-1')], path: '/region', message: 'must match ^[a-z]{2}' },
    { name: 'region without dashes', edits: [set('/region', 'useast1')], path: '/region', message: 'must match' },
    { name: 'region that is an AZ', edits: [set('/region', 'us-east-1a')], path: '/region', message: 'must match' },
    {
      name: 'unknown top-level field',
      edits: [set('/priority', 1)],
      path: '/priority',
      message: 'is not a known field of the provision request',
    },
    {
      name: 'top-level field differing by case',
      edits: [set('/RequestID', 'x')],
      path: '/RequestID',
      message: 'did you mean "requestId"?',
    },
    { name: 'projectId with sagemaker', edits: [set('/projectId', 1)], path: '/projectId', message: 'applies only to provider "tir"' },
    { name: 'location with sagemaker', edits: [set('/location', 'Delhi')], path: '/location', message: 'applies only to provider "tir"' },
    { name: 'activeIam with sagemaker', edits: [set('/activeIam', 1)], path: '/activeIam', message: 'applies only to provider "tir"' },
    {
      name: 'region with tir',
      base: TIR,
      edits: [set('/region', 'us-east-1')],
      path: '/region',
      message: 'applies only to provider "sagemaker"',
    },
    // startAt: RFC 3339 with a zone, checked for format only.
    {
      name: 'startAt without a zone',
      edits: [set('/startAt', '2026-12-01T08:00:00')],
      path: '/startAt',
      message: 'must include a zone (Z or ±hh:mm)',
    },
    { name: 'startAt as a date only', edits: [set('/startAt', '2026-12-01')], path: '/startAt', message: 'RFC 3339 date-time with a zone' },
    { name: 'startAt with a space separator', edits: [set('/startAt', '2026-12-01 08:00:00Z')], path: '/startAt', message: 'RFC 3339' },
    { name: 'startAt on 30 February', edits: [set('/startAt', '2026-02-30T08:00:00Z')], path: '/startAt', message: 'real date and time' },
    { name: 'startAt at hour 24', edits: [set('/startAt', '2026-12-01T24:00:00Z')], path: '/startAt', message: 'real date and time' },
    { name: 'startAt in month 13', edits: [set('/startAt', '2026-13-01T08:00:00Z')], path: '/startAt', message: 'real date and time' },
    // An offset that brings hour 24 or minute 60 to 23:59 UTC is no leap second: Date.parse refuses both.
    {
      name: 'startAt at hour 24 with an offset',
      edits: [set('/startAt', '2027-01-01T24:59:30+01:00')],
      path: '/startAt',
      message: 'real date and time',
    },
    {
      name: 'startAt at minute 60 with an offset',
      edits: [set('/startAt', '2027-01-01T23:60:00+00:01')],
      path: '/startAt',
      message: 'real date and time',
    },
    { name: 'startAt as epoch seconds', edits: [set('/startAt', 1796112000)], path: '/startAt', message: 'must be a string (got number)' },
    // deleteAfter: weeks/days/hours/minutes/seconds, PT1M..P365D.
    { name: 'deleteAfter PT59S (below PT1M)', edits: [set('/deleteAfter', 'PT59S')], path: '/deleteAfter', message: 'at least PT1M' },
    { name: 'deleteAfter PT0S', edits: [set('/deleteAfter', 'PT0S')], path: '/deleteAfter', message: 'at least PT1M' },
    { name: 'deleteAfter P366D', edits: [set('/deleteAfter', 'P366D')], path: '/deleteAfter', message: 'at most P365D' },
    { name: 'deleteAfter P365DT1S', edits: [set('/deleteAfter', 'P365DT1S')], path: '/deleteAfter', message: 'at most P365D' },
    { name: 'deleteAfter P53W', edits: [set('/deleteAfter', 'P53W')], path: '/deleteAfter', message: 'at most P365D' },
    { name: 'deleteAfter in years', edits: [set('/deleteAfter', 'P1Y')], path: '/deleteAfter', message: 'not a fixed length' },
    { name: 'deleteAfter in months', edits: [set('/deleteAfter', 'P1M')], path: '/deleteAfter', message: 'not a fixed length' },
    {
      name: 'deleteAfter mixing months and days',
      edits: [set('/deleteAfter', 'P1M2DT3H')],
      path: '/deleteAfter',
      message: 'not a fixed length',
    },
    { name: 'deleteAfter with no amount', edits: [set('/deleteAfter', 'P')], path: '/deleteAfter', message: 'ISO 8601 duration' },
    { name: 'deleteAfter ending in T', edits: [set('/deleteAfter', 'P1DT')], path: '/deleteAfter', message: 'ISO 8601 duration' },
    { name: 'deleteAfter with a fraction', edits: [set('/deleteAfter', 'PT1.5H')], path: '/deleteAfter', message: 'ISO 8601 duration' },
    { name: 'deleteAfter in lower case', edits: [set('/deleteAfter', 'pt8h')], path: '/deleteAfter', message: 'ISO 8601 duration' },
    { name: 'deleteAfter as plain text', edits: [set('/deleteAfter', '8h')], path: '/deleteAfter', message: 'e.g. PT8H' },
    { name: 'deleteAfter as a number', edits: [set('/deleteAfter', 3600)], path: '/deleteAfter', message: 'must be a string' },
    // tir-only fields.
    { name: 'tir without projectId', base: TIR, edits: [del('/projectId')], path: '/projectId', message: 'is required' },
    { name: 'tir without location', base: TIR, edits: [del('/location')], path: '/location', message: 'is required' },
    { name: 'tir projectId 0', base: TIR, edits: [set('/projectId', 0)], path: '/projectId', message: 'positive integer (got 0)' },
    {
      name: 'tir projectId as a string',
      base: TIR,
      edits: [set('/projectId', '12345')],
      path: '/projectId',
      message: 'positive integer (got string)',
    },
    { name: 'tir projectId 1.5', base: TIR, edits: [set('/projectId', 1.5)], path: '/projectId', message: 'positive integer (got 1.5)' },
    { name: 'tir empty location', base: TIR, edits: [set('/location', '')], path: '/location', message: 'at least 1 character' },
    {
      name: 'tir location of 65 characters',
      base: TIR,
      edits: [set('/location', s(65))],
      path: '/location',
      message: 'at most 64 characters (got 65)',
    },
    { name: 'tir activeIam -1', base: TIR, edits: [set('/activeIam', -1)], path: '/activeIam', message: 'positive integer' },
  ])('rejects $name', expectOnly);

  it('still reports the other top-level errors when provider is missing, and only requires cluster to be an object', () => {
    const result = validateRequest({ requestId: 'bad id', startAt: 'tomorrow', cluster: { anything: true }, extra: 1 });
    expect(result.errors).toEqual([
      { path: '/extra', message: 'is not a known field of the provision request' },
      { path: '/requestId', message: 'must match ^[A-Za-z0-9_-]+$' },
      { path: '/provider', message: 'is required' },
      { path: '/startAt', message: expect.stringContaining('RFC 3339') },
    ]);
  });

  it('checks the format of provider-specific fields when provider is invalid, without judging the cluster body', () => {
    const result = validateRequest({ provider: 'gcp', region: 'nowhere', projectId: 0, cluster: [] });
    expect(result.errors.map((e) => e.path)).toEqual(['/provider', '/region', '/projectId', '/cluster']);
    expect(result.errors[3]?.message).toBe('must be an object (got array)');
  });
});

describe('validateRequest: HyperPod CreateCluster', () => {
  it.each<ValidCase>([
    { name: 'ClusterName of 63 characters', edits: [set('/cluster/ClusterName', s(63))] },
    { name: 'ClusterName of 1 character', edits: [set('/cluster/ClusterName', 'a')] },
    { name: 'ClusterName with inner dashes', edits: [set('/cluster/ClusterName', 'a--b-9')] },
    { name: '20 instance groups', edits: [set('/cluster/InstanceGroups', groups(20))] },
    { name: 'no Tags', edits: [del('/cluster/Tags')] },
    { name: 'empty Tags', edits: [set('/cluster/Tags', [])] },
    { name: '48 Tags', edits: [set('/cluster/Tags', tags(48))] },
    { name: 'Tag key of 128 characters', edits: [set('/cluster/Tags/0/Key', s(128))] },
    { name: 'Tag value of 256 characters', edits: [set('/cluster/Tags/0/Value', s(256))] },
    { name: 'empty Tag value', edits: [set('/cluster/Tags/0/Value', '')] },
    { name: 'Unicode Tag key and value', edits: [set('/cluster/Tags/0', { Key: 'Équipe:東京', Value: 'données / 2026 @lab+=-_.' })] },
    { name: 'Tag key containing aws: later on', edits: [set('/cluster/Tags/0/Key', 'team:aws:x')] },
    { name: 'no VpcConfig', edits: [del('/cluster/VpcConfig')] },
    { name: '5 SecurityGroupIds', edits: [set('/cluster/VpcConfig/SecurityGroupIds', ids(5, 'sg'))] },
    { name: '16 Subnets', edits: [set('/cluster/VpcConfig/Subnets', ids(16, 'subnet'))] },
    { name: 'subnet id of 32 characters', edits: [set('/cluster/VpcConfig/Subnets/0', s(32))] },
    { name: 'no Orchestrator', edits: [del('/cluster/Orchestrator')] },
    { name: 'Slurm orchestrator without a strategy', edits: [set('/cluster/Orchestrator', { Slurm: {} })] },
    ...['Overwrite', 'Managed', 'Merge'].map((strategy) => ({
      name: `Slurm strategy ${strategy}`,
      edits: [set('/cluster/Orchestrator', { Slurm: { SlurmConfigStrategy: strategy } })],
    })),
    {
      name: 'EKS ARN with a long region (2048 characters)',
      edits: [set('/cluster/Orchestrator/Eks/ClusterArn', ofLength(2048, 'arn:aws:eks:', ':123456789012:cluster/ml-platform'))],
    },
    {
      name: 'the shortest EKS ARN the pattern allows',
      edits: [set('/cluster/Orchestrator/Eks/ClusterArn', 'arn:aws:eks::123456789012:cluster/c')],
    },
    {
      name: 'EKS ARN in another partition',
      edits: [set('/cluster/Orchestrator/Eks/ClusterArn', 'arn:aws-us-gov:eks:us-gov-west-1:123456789012:cluster/c')],
    },
    { name: 'NodeRecovery None', edits: [set('/cluster/NodeRecovery', 'None')] },
    { name: 'no NodeRecovery', edits: [del('/cluster/NodeRecovery')] },
  ])('accepts $name', expectValid);

  it.each<InvalidCase>([
    { name: 'missing ClusterName', edits: [del('/cluster/ClusterName')], path: '/cluster/ClusterName', message: 'is required' },
    {
      name: 'ClusterName of 64 characters',
      edits: [set('/cluster/ClusterName', s(64))],
      path: '/cluster/ClusterName',
      message: 'at most 63 characters (got 64)',
    },
    {
      name: 'empty ClusterName',
      edits: [set('/cluster/ClusterName', '')],
      path: '/cluster/ClusterName',
      message: 'at least 1 character (got 0)',
    },
    {
      name: 'ClusterName starting with a dash',
      edits: [set('/cluster/ClusterName', '-demo')],
      path: '/cluster/ClusterName',
      message: `must match ${NAME_PATTERN}`,
    },
    {
      name: 'ClusterName ending with a dash',
      edits: [set('/cluster/ClusterName', 'demo-')],
      path: '/cluster/ClusterName',
      message: NAME_PATTERN,
    },
    {
      name: 'ClusterName with an underscore',
      edits: [set('/cluster/ClusterName', 'de_mo')],
      path: '/cluster/ClusterName',
      message: NAME_PATTERN,
    },
    { name: 'missing InstanceGroups', edits: [del('/cluster/InstanceGroups')], path: '/cluster/InstanceGroups', message: 'is required' },
    {
      name: 'no instance groups',
      edits: [set('/cluster/InstanceGroups', [])],
      path: '/cluster/InstanceGroups',
      message: 'at least 1 item (got 0)',
    },
    {
      name: '21 instance groups',
      edits: [set('/cluster/InstanceGroups', groups(21))],
      path: '/cluster/InstanceGroups',
      message: 'at most 20 items (got 21)',
    },
    {
      name: 'InstanceGroups as an object',
      edits: [set('/cluster/InstanceGroups', { a: GROUP })],
      path: '/cluster/InstanceGroups',
      message: 'must be an array (got object)',
    },
    {
      name: 'duplicate InstanceGroupName (the later one)',
      edits: [set('/cluster/InstanceGroups', [GROUP, { ...GROUP, InstanceGroupName: 'other' }, GROUP])],
      path: '/cluster/InstanceGroups/2/InstanceGroupName',
      message: 'duplicates /cluster/InstanceGroups/0/InstanceGroupName',
    },
    {
      name: "49 Tags (two are the provisioner's)",
      edits: [set('/cluster/Tags', tags(49))],
      path: '/cluster/Tags',
      message:
        'at most 48 items: CreateCluster allows 50 tags and the provisioner adds its own provisioner:request-id and provisioner:deployment tags',
    },
    { name: 'Tags as an object', edits: [set('/cluster/Tags', { team: 'ml' })], path: '/cluster/Tags', message: 'must be an array' },
    { name: 'Tag without Key', edits: [del('/cluster/Tags/0/Key')], path: '/cluster/Tags/0/Key', message: 'is required' },
    { name: 'Tag without Value', edits: [del('/cluster/Tags/0/Value')], path: '/cluster/Tags/0/Value', message: 'is required' },
    {
      name: 'empty Tag key',
      edits: [set('/cluster/Tags/0/Key', '')],
      path: '/cluster/Tags/0/Key',
      message: 'at least 1 character (got 0)',
    },
    {
      name: 'Tag key of 129 characters',
      edits: [set('/cluster/Tags/0/Key', s(129))],
      path: '/cluster/Tags/0/Key',
      message: 'at most 128 characters (got 129)',
    },
    {
      name: 'Tag value of 257 characters',
      edits: [set('/cluster/Tags/0/Value', s(257))],
      path: '/cluster/Tags/0/Value',
      message: 'at most 256 characters (got 257)',
    },
    {
      name: 'Tag key with *',
      edits: [set('/cluster/Tags/0/Key', 'a*b')],
      path: '/cluster/Tags/0/Key',
      message: `must match ${TAG_PATTERN}`,
    },
    { name: 'Tag value with ;', edits: [set('/cluster/Tags/0/Value', 'a;b')], path: '/cluster/Tags/0/Value', message: TAG_PATTERN },
    {
      name: 'Tag key starting with aws:',
      edits: [set('/cluster/Tags/0/Key', 'aws:team')],
      path: '/cluster/Tags/0/Key',
      message: 'must not start with aws:',
    },
    {
      name: 'Tag key starting with AWS:',
      edits: [set('/cluster/Tags/0/Key', 'AWS:team')],
      path: '/cluster/Tags/0/Key',
      message: 'must not start with aws:',
    },
    {
      name: 'the reserved provisioner:request-id tag',
      edits: [set('/cluster/Tags/0/Key', 'provisioner:request-id')],
      path: '/cluster/Tags/0/Key',
      message: 'is reserved: the provisioner sets the provisioner:request-id tag',
    },
    {
      name: 'the reserved provisioner:deployment tag',
      edits: [set('/cluster/Tags/0/Key', 'provisioner:deployment')],
      path: '/cluster/Tags/0/Key',
      message: 'is reserved: the provisioner sets the provisioner:deployment tag',
    },
    {
      name: 'duplicate Tag key (the later one)',
      edits: [set('/cluster/Tags', [...tags(2), { Key: 'key-0', Value: 'again' }])],
      path: '/cluster/Tags/2/Key',
      message: 'duplicates /cluster/Tags/0/Key: tag keys must be unique',
    },
    {
      name: 'unknown Tag field',
      edits: [set('/cluster/Tags/0/key', 'x')],
      path: '/cluster/Tags/0/key',
      message: 'is not a known field of CreateCluster Tag (did you mean "Key"?)',
    },
    {
      name: 'VpcConfig without SecurityGroupIds',
      edits: [del('/cluster/VpcConfig/SecurityGroupIds')],
      path: '/cluster/VpcConfig/SecurityGroupIds',
      message: 'is required',
    },
    {
      name: 'VpcConfig without Subnets',
      edits: [del('/cluster/VpcConfig/Subnets')],
      path: '/cluster/VpcConfig/Subnets',
      message: 'is required',
    },
    {
      name: 'no SecurityGroupIds',
      edits: [set('/cluster/VpcConfig/SecurityGroupIds', [])],
      path: '/cluster/VpcConfig/SecurityGroupIds',
      message: 'at least 1 item (got 0)',
    },
    {
      name: '6 SecurityGroupIds',
      edits: [set('/cluster/VpcConfig/SecurityGroupIds', ids(6, 'sg'))],
      path: '/cluster/VpcConfig/SecurityGroupIds',
      message: 'at most 5 items (got 6)',
    },
    {
      name: 'no Subnets',
      edits: [set('/cluster/VpcConfig/Subnets', [])],
      path: '/cluster/VpcConfig/Subnets',
      message: 'at least 1 item (got 0)',
    },
    {
      name: '17 Subnets',
      edits: [set('/cluster/VpcConfig/Subnets', ids(17, 'subnet'))],
      path: '/cluster/VpcConfig/Subnets',
      message: 'at most 16 items (got 17)',
    },
    {
      name: 'subnet id of 33 characters',
      edits: [set('/cluster/VpcConfig/Subnets/0', s(33))],
      path: '/cluster/VpcConfig/Subnets/0',
      message: 'at most 32 characters (got 33)',
    },
    {
      name: 'security group id of 33 characters',
      edits: [set('/cluster/VpcConfig/SecurityGroupIds/0', s(33))],
      path: '/cluster/VpcConfig/SecurityGroupIds/0',
      message: 'at most 32 characters (got 33)',
    },
    {
      name: 'subnet id with _',
      edits: [set('/cluster/VpcConfig/Subnets/0', 'subnet_1')],
      path: '/cluster/VpcConfig/Subnets/0',
      message: 'must match ^[-0-9a-zA-Z]+$',
    },
    {
      name: 'empty security group id',
      edits: [set('/cluster/VpcConfig/SecurityGroupIds/0', '')],
      path: '/cluster/VpcConfig/SecurityGroupIds/0',
      message: '^[-0-9a-zA-Z]+$',
    },
    {
      name: 'unknown VpcConfig field',
      edits: [set('/cluster/VpcConfig/VpcId', 'vpc-1')],
      path: '/cluster/VpcConfig/VpcId',
      message: 'is not a known field of CreateCluster VpcConfig',
    },
    {
      name: 'Orchestrator with neither Eks nor Slurm',
      edits: [set('/cluster/Orchestrator', {})],
      path: '/cluster/Orchestrator',
      message: 'must set exactly one of: Eks, Slurm',
    },
    {
      name: 'Orchestrator with both Eks and Slurm',
      edits: [set('/cluster/Orchestrator/Slurm', {})],
      path: '/cluster/Orchestrator/Slurm',
      message: 'cannot be set together with Eks',
    },
    {
      name: 'unknown Orchestrator field',
      edits: [set('/cluster/Orchestrator/Ecs', {})],
      path: '/cluster/Orchestrator/Ecs',
      message: 'is not a known field of CreateCluster Orchestrator (did you mean "Eks"?)',
    },
    {
      name: 'Eks without ClusterArn',
      edits: [set('/cluster/Orchestrator/Eks', {})],
      path: '/cluster/Orchestrator/Eks/ClusterArn',
      message: 'is required',
    },
    {
      name: 'EKS ARN of 19 characters',
      edits: [set('/cluster/Orchestrator/Eks/ClusterArn', s(19))],
      path: '/cluster/Orchestrator/Eks/ClusterArn',
      message: 'at least 20 characters (got 19)',
    },
    {
      name: 'EKS ARN of 2049 characters',
      edits: [set('/cluster/Orchestrator/Eks/ClusterArn', ofLength(2049, 'arn:aws:eks:', ':123456789012:cluster/ml-platform'))],
      path: '/cluster/Orchestrator/Eks/ClusterArn',
      message: 'at most 2048 characters (got 2049)',
    },
    {
      name: 'EKS ARN of an IAM role',
      edits: [set('/cluster/Orchestrator/Eks/ClusterArn', ROLE)],
      path: '/cluster/Orchestrator/Eks/ClusterArn',
      message: 'must match ^arn:aws[a-z\\-]*:eks:',
    },
    {
      name: 'EKS ARN with an 11-digit account',
      edits: [set('/cluster/Orchestrator/Eks/ClusterArn', 'arn:aws:eks:us-east-1:12345678901:cluster/c')],
      path: '/cluster/Orchestrator/Eks/ClusterArn',
      message: 'must match',
    },
    {
      name: 'unknown Eks field',
      edits: [set('/cluster/Orchestrator/Eks/Arn', EKS_ARN)],
      path: '/cluster/Orchestrator/Eks/Arn',
      message: 'is not a known field of CreateCluster Orchestrator.Eks',
    },
    {
      name: 'unknown Slurm strategy',
      edits: [set('/cluster/Orchestrator', { Slurm: { SlurmConfigStrategy: 'Replace' } })],
      path: '/cluster/Orchestrator/Slurm/SlurmConfigStrategy',
      message: 'must be one of: Managed, Merge, Overwrite',
    },
    {
      name: 'unknown Slurm field',
      edits: [set('/cluster/Orchestrator', { Slurm: { Strategy: 'Merge' } })],
      path: '/cluster/Orchestrator/Slurm/Strategy',
      message: 'is not a known field of CreateCluster Orchestrator.Slurm',
    },
    {
      name: 'NodeRecovery in lower case',
      edits: [set('/cluster/NodeRecovery', 'automatic')],
      path: '/cluster/NodeRecovery',
      message: 'must be one of: Automatic, None (did you mean "Automatic"?)',
    },
    {
      name: 'NodeRecovery as a boolean',
      edits: [set('/cluster/NodeRecovery', true)],
      path: '/cluster/NodeRecovery',
      message: 'must be a string (got boolean)',
    },
    {
      name: 'unknown CreateCluster field',
      edits: [set('/cluster/ClusterTags', [])],
      path: '/cluster/ClusterTags',
      message: 'is not a known field of CreateCluster',
    },
    {
      name: 'CreateCluster field with a typo',
      edits: [set('/cluster/NodeRecover', 'None')],
      path: '/cluster/NodeRecover',
      message: 'did you mean "NodeRecovery"?',
    },
    {
      name: 'a key with / and ~ (escaped in the pointer)',
      edits: [set('/cluster/a~1b~0c', 1)],
      path: '/cluster/a~1b~0c',
      message: 'is not a known field',
    },
    { name: 'cluster as a string', edits: [set('/cluster', 'demo')], path: '/cluster', message: 'must be an object (got string)' },
  ])('rejects $name', expectOnly);
});

describe('validateRequest: HyperPod instance groups', () => {
  it.each<ValidCase>([
    { name: 'InstanceGroupName of 63 characters', edits: [set(`${IG}/InstanceGroupName`, s(63))] },
    { name: 'InstanceCount 1', edits: [set(`${IG}/InstanceCount`, 1)] },
    { name: 'InstanceCount 6758', edits: [set(`${IG}/InstanceCount`, 6758)] },
    { name: 'the first listed InstanceType', edits: [set(`${IG}/InstanceType`, HYPERPOD_INSTANCE_TYPES[0])] },
    { name: 'the last listed InstanceType', edits: [set(`${IG}/InstanceType`, HYPERPOD_INSTANCE_TYPES.at(-1))] },
    { name: 'InstanceType ml.p5.48xlarge', edits: [set(`${IG}/InstanceType`, 'ml.p5.48xlarge')] },
    { name: 'SourceS3Uri of 1024 characters', edits: [set(`${IG}/LifeCycleConfig/SourceS3Uri`, ofLength(1024, 's3://sagemaker-demo/'))] },
    {
      name: 'an https SourceS3Uri',
      edits: [set(`${IG}/LifeCycleConfig/SourceS3Uri`, 'https://sagemaker-demo.s3.us-east-1.amazonaws.com/lc/')],
    },
    { name: 'a bucket-only SourceS3Uri', edits: [set(`${IG}/LifeCycleConfig/SourceS3Uri`, 's3://sagemaker-demo')] },
    { name: 'OnCreate of 128 characters', edits: [set(`${IG}/LifeCycleConfig/OnCreate`, s(128))] },
    { name: 'OnCreate of 1 character', edits: [set(`${IG}/LifeCycleConfig/OnCreate`, 'x')] },
    { name: 'the shortest ExecutionRole the pattern allows', edits: [set(`${IG}/ExecutionRole`, `${ROLE_PREFIX}r`)] },
    { name: 'ExecutionRole of 2048 characters', edits: [set(`${IG}/ExecutionRole`, ofLength(2048, ROLE_PREFIX))] },
    { name: 'ExecutionRole with a path', edits: [set(`${IG}/ExecutionRole`, 'arn:aws:iam::123456789012:role/service-role/x+=,.@-_')] },
    { name: 'ExecutionRole in GovCloud', edits: [set(`${IG}/ExecutionRole`, 'arn:aws-us-gov:iam::123456789012:role/x')] },
    { name: 'ThreadsPerCore 2', edits: [set(`${IG}/ThreadsPerCore`, 2)] },
    { name: 'no ThreadsPerCore', edits: [del(`${IG}/ThreadsPerCore`)] },
    { name: 'no InstanceStorageConfigs', edits: [set(`${IG}/InstanceStorageConfigs`, [])] },
    {
      name: '4 InstanceStorageConfigs',
      edits: [set(`${IG}/InstanceStorageConfigs`, Array(4).fill({ EbsVolumeConfig: { VolumeSizeInGB: 1 } }))],
    },
    { name: 'VolumeSizeInGB 1', edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`, 1)] },
    { name: 'VolumeSizeInGB 16384', edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`, 16384)] },
    { name: 'both deep health checks', edits: [set(`${IG}/OnStartDeepHealthChecks`, ['InstanceConnectivity', 'InstanceStress'])] },
    { name: 'no deep health checks', edits: [del(`${IG}/OnStartDeepHealthChecks`)] },
    { name: 'TrainingPlanArn of 50 characters', edits: [set(`${IG}/TrainingPlanArn`, ofLength(50, PLAN_PREFIX))] },
    { name: 'TrainingPlanArn of 2048 characters', edits: [set(`${IG}/TrainingPlanArn`, ofLength(2048, PLAN_PREFIX))] },
    { name: 'no OverrideVpcConfig', edits: [del(`${IG}/OverrideVpcConfig`)] },
    {
      name: '5 security groups and 16 subnets in OverrideVpcConfig',
      edits: [set(`${IG}/OverrideVpcConfig`, { SecurityGroupIds: ids(5, 'sg'), Subnets: ids(16, 'subnet') })],
    },
  ])('accepts $name', expectValid);

  it.each<InvalidCase>([
    ...['InstanceGroupName', 'InstanceCount', 'LifeCycleConfig', 'ExecutionRole'].map((field) => ({
      name: `missing ${field}`,
      edits: [del(`${IG}/${field}`)],
      path: `${IG}/${field}`,
      message: 'is required',
    })),
    {
      name: 'missing SourceS3Uri',
      edits: [del(`${IG}/LifeCycleConfig/SourceS3Uri`)],
      path: `${IG}/LifeCycleConfig/SourceS3Uri`,
      message: 'is required',
    },
    {
      name: 'missing OnCreate',
      edits: [del(`${IG}/LifeCycleConfig/OnCreate`)],
      path: `${IG}/LifeCycleConfig/OnCreate`,
      message: 'is required',
    },
    {
      name: 'InstanceGroupName of 64 characters',
      edits: [set(`${IG}/InstanceGroupName`, s(64))],
      path: `${IG}/InstanceGroupName`,
      message: 'at most 63 characters (got 64)',
    },
    {
      name: 'InstanceGroupName with a dot',
      edits: [set(`${IG}/InstanceGroupName`, 'gpu.workers')],
      path: `${IG}/InstanceGroupName`,
      message: `must match ${NAME_PATTERN}`,
    },
    { name: 'InstanceCount 0', edits: [set(`${IG}/InstanceCount`, 0)], path: `${IG}/InstanceCount`, message: 'at least 1 (got 0)' },
    {
      name: 'InstanceCount 6759',
      edits: [set(`${IG}/InstanceCount`, 6759)],
      path: `${IG}/InstanceCount`,
      message: 'at most 6758 (got 6759)',
    },
    {
      name: 'InstanceCount 1.5',
      edits: [set(`${IG}/InstanceCount`, 1.5)],
      path: `${IG}/InstanceCount`,
      message: 'must be an integer (got 1.5)',
    },
    {
      name: 'InstanceCount as a string',
      edits: [set(`${IG}/InstanceCount`, '2')],
      path: `${IG}/InstanceCount`,
      message: 'must be an integer (got string)',
    },
    {
      name: 'an unlisted InstanceType',
      edits: [set(`${IG}/InstanceType`, 'ml.g5.3xlarge')],
      path: `${IG}/InstanceType`,
      message: 'must be a HyperPod instance type listed in functions/core/hyperpod-instance-types.ts',
    },
    {
      name: 'an InstanceType one typo from two listed ones',
      edits: [set(`${IG}/InstanceType`, 'ml.g5.3xlarge')],
      path: `${IG}/InstanceType`,
      message: 'did you mean "ml.g5.2xlarge"?',
    },
    {
      name: 'an InstanceType without the ml. prefix',
      edits: [set(`${IG}/InstanceType`, 'g5.2xlarge')],
      path: `${IG}/InstanceType`,
      message: 'HyperPod instance type',
    },
    {
      name: 'an InstanceType in capitals',
      edits: [set(`${IG}/InstanceType`, 'ML.G5.2XLARGE')],
      path: `${IG}/InstanceType`,
      message: 'did you mean "ml.g5.2xlarge"?',
    },
    {
      name: 'LifeCycleConfig as a string',
      edits: [set(`${IG}/LifeCycleConfig`, 's3://sagemaker-demo/')],
      path: `${IG}/LifeCycleConfig`,
      message: 'must be an object (got string)',
    },
    {
      name: 'SourceS3Uri of 1025 characters',
      edits: [set(`${IG}/LifeCycleConfig/SourceS3Uri`, ofLength(1025, 's3://sagemaker-demo/'))],
      path: `${IG}/LifeCycleConfig/SourceS3Uri`,
      message: 'at most 1024 characters (got 1025)',
    },
    {
      name: 'empty SourceS3Uri',
      edits: [set(`${IG}/LifeCycleConfig/SourceS3Uri`, '')],
      path: `${IG}/LifeCycleConfig/SourceS3Uri`,
      message: 'at least 1 character',
    },
    {
      name: 'SourceS3Uri over http',
      edits: [set(`${IG}/LifeCycleConfig/SourceS3Uri`, 'http://sagemaker-demo/lc')],
      path: `${IG}/LifeCycleConfig/SourceS3Uri`,
      message: 'must match ^(https|s3)://([^/]+)/?(.*)$',
    },
    {
      name: 'SourceS3Uri without a bucket',
      edits: [set(`${IG}/LifeCycleConfig/SourceS3Uri`, 's3:///lc')],
      path: `${IG}/LifeCycleConfig/SourceS3Uri`,
      message: 'must match ^(https|s3)',
    },
    {
      name: 'empty OnCreate',
      edits: [set(`${IG}/LifeCycleConfig/OnCreate`, '')],
      path: `${IG}/LifeCycleConfig/OnCreate`,
      message: 'at least 1 character (got 0)',
    },
    {
      name: 'OnCreate of 129 characters',
      edits: [set(`${IG}/LifeCycleConfig/OnCreate`, s(129))],
      path: `${IG}/LifeCycleConfig/OnCreate`,
      message: 'at most 128 characters (got 129)',
    },
    {
      name: 'unknown LifeCycleConfig field',
      edits: [set(`${IG}/LifeCycleConfig/OnStart`, 'x.sh')],
      path: `${IG}/LifeCycleConfig/OnStart`,
      message: 'is not a known field of CreateCluster LifeCycleConfig',
    },
    {
      name: 'ExecutionRole of 19 characters',
      edits: [set(`${IG}/ExecutionRole`, s(19))],
      path: `${IG}/ExecutionRole`,
      message: 'at least 20 characters (got 19)',
    },
    {
      name: 'ExecutionRole of 2049 characters',
      edits: [set(`${IG}/ExecutionRole`, ofLength(2049, ROLE_PREFIX))],
      path: `${IG}/ExecutionRole`,
      message: 'at most 2048 characters (got 2049)',
    },
    {
      name: 'ExecutionRole with an 11-digit account',
      edits: [set(`${IG}/ExecutionRole`, 'arn:aws:iam::12345678901:role/HyperPod')],
      path: `${IG}/ExecutionRole`,
      message: String.raw`must match ^arn:aws[a-z\-]*:iam::\d{12}:role/?`,
    },
    {
      name: 'ExecutionRole that is a user',
      edits: [set(`${IG}/ExecutionRole`, 'arn:aws:iam::123456789012:user/HyperPod')],
      path: `${IG}/ExecutionRole`,
      message: 'must match',
    },
    { name: 'ThreadsPerCore 3', edits: [set(`${IG}/ThreadsPerCore`, 3)], path: `${IG}/ThreadsPerCore`, message: 'at most 2 (got 3)' },
    { name: 'ThreadsPerCore 0', edits: [set(`${IG}/ThreadsPerCore`, 0)], path: `${IG}/ThreadsPerCore`, message: 'at least 1 (got 0)' },
    {
      name: 'ThreadsPerCore 1.5',
      edits: [set(`${IG}/ThreadsPerCore`, 1.5)],
      path: `${IG}/ThreadsPerCore`,
      message: 'must be an integer (got 1.5)',
    },
    {
      name: '5 InstanceStorageConfigs',
      edits: [set(`${IG}/InstanceStorageConfigs`, Array(5).fill({ EbsVolumeConfig: { VolumeSizeInGB: 1 } }))],
      path: `${IG}/InstanceStorageConfigs`,
      message: 'at most 4 items (got 5)',
    },
    {
      name: 'an empty InstanceStorageConfig',
      edits: [set(`${IG}/InstanceStorageConfigs/0`, {})],
      path: `${IG}/InstanceStorageConfigs/0`,
      message: 'must set exactly one of: EbsVolumeConfig, FsxLustreConfig, FsxOpenZfsConfig (got none)',
    },
    {
      name: 'an InstanceStorageConfig with two members',
      edits: [set(`${IG}/InstanceStorageConfigs/0/FsxOpenZfsConfig`, { DnsName: 'fs.example.com' })],
      path: `${IG}/InstanceStorageConfigs/0/FsxOpenZfsConfig`,
      message:
        'cannot be set together with EbsVolumeConfig: InstanceStorageConfig takes exactly one of: EbsVolumeConfig, FsxLustreConfig, FsxOpenZfsConfig',
    },
    {
      name: 'unknown InstanceStorageConfig member',
      edits: [set(`${IG}/InstanceStorageConfigs/0/FsxConfig`, {})],
      path: `${IG}/InstanceStorageConfigs/0/FsxConfig`,
      message: 'is not a known field of CreateCluster InstanceStorageConfig',
    },
    {
      name: 'EbsVolumeConfig without VolumeSizeInGB',
      edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig`, {})],
      path: `${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`,
      message: 'is required',
    },
    {
      name: 'VolumeSizeInGB 0',
      edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`, 0)],
      path: `${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`,
      message: 'at least 1 (got 0)',
    },
    {
      name: 'VolumeSizeInGB 16385',
      edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`, 16385)],
      path: `${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`,
      message: 'at most 16384 (got 16385)',
    },
    {
      name: 'VolumeSizeInGB 100.5',
      edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`, 100.5)],
      path: `${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`,
      message: 'must be an integer (got 100.5)',
    },
    {
      name: 'unknown EbsVolumeConfig field',
      edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeType`, 'gp3')],
      path: `${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeType`,
      message: 'is not a known field of CreateCluster EbsVolumeConfig',
    },
    {
      name: 'a root-volume EbsVolumeConfig with a size',
      edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig`, { RootVolume: true, VolumeKmsKeyId: 'k', VolumeSizeInGB: 100 })],
      path: `${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeSizeInGB`,
      message: 'must not be set when RootVolume is true',
    },
    {
      name: 'a root-volume EbsVolumeConfig without a KMS key',
      edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig`, { RootVolume: true })],
      path: `${IG}/InstanceStorageConfigs/0/EbsVolumeConfig/VolumeKmsKeyId`,
      message: 'is required when RootVolume is true',
    },
    {
      name: 'no deep health checks (empty list)',
      edits: [set(`${IG}/OnStartDeepHealthChecks`, [])],
      path: `${IG}/OnStartDeepHealthChecks`,
      message: 'at least 1 item (got 0)',
    },
    {
      name: '3 deep health checks (also a duplicate)',
      edits: [set(`${IG}/OnStartDeepHealthChecks`, ['InstanceStress', 'InstanceConnectivity', 'InstanceStress'])],
      path: `${IG}/OnStartDeepHealthChecks`,
      message: 'at most 2 items (got 3)',
      alsoAt: [`${IG}/OnStartDeepHealthChecks/2`],
    },
    {
      name: 'a duplicate deep health check (the later one)',
      edits: [set(`${IG}/OnStartDeepHealthChecks`, ['InstanceStress', 'InstanceStress'])],
      path: `${IG}/OnStartDeepHealthChecks/1`,
      message: 'duplicates .../0'.replace('...', `${IG}/OnStartDeepHealthChecks`),
    },
    {
      name: 'an unknown deep health check',
      edits: [set(`${IG}/OnStartDeepHealthChecks/0`, 'InstanceBurn')],
      path: `${IG}/OnStartDeepHealthChecks/0`,
      message: 'must be one of: InstanceConnectivity, InstanceStress',
    },
    {
      name: 'TrainingPlanArn of 49 characters',
      edits: [set(`${IG}/TrainingPlanArn`, ofLength(49, PLAN_PREFIX))],
      path: `${IG}/TrainingPlanArn`,
      message: 'at least 50 characters (got 49)',
    },
    {
      name: 'TrainingPlanArn of 2049 characters',
      edits: [set(`${IG}/TrainingPlanArn`, ofLength(2049, PLAN_PREFIX))],
      path: `${IG}/TrainingPlanArn`,
      message: 'at most 2048 characters (got 2049)',
    },
    {
      name: 'TrainingPlanArn of another resource',
      edits: [set(`${IG}/TrainingPlanArn`, 'arn:aws:sagemaker:us-east-1:123456789012:cluster/abcdefghijkl')],
      path: `${IG}/TrainingPlanArn`,
      message: ':training-plan/.*$',
    },
    {
      name: 'OverrideVpcConfig without Subnets',
      edits: [del(`${IG}/OverrideVpcConfig/Subnets`)],
      path: `${IG}/OverrideVpcConfig/Subnets`,
      message: 'is required',
    },
    {
      name: 'OverrideVpcConfig without SecurityGroupIds',
      edits: [del(`${IG}/OverrideVpcConfig/SecurityGroupIds`)],
      path: `${IG}/OverrideVpcConfig/SecurityGroupIds`,
      message: 'is required',
    },
    {
      name: '6 security groups in OverrideVpcConfig',
      edits: [set(`${IG}/OverrideVpcConfig/SecurityGroupIds`, ids(6, 'sg'))],
      path: `${IG}/OverrideVpcConfig/SecurityGroupIds`,
      message: 'at most 5 items (got 6)',
    },
    {
      name: '17 subnets in OverrideVpcConfig',
      edits: [set(`${IG}/OverrideVpcConfig/Subnets`, ids(17, 'subnet'))],
      path: `${IG}/OverrideVpcConfig/Subnets`,
      message: 'at most 16 items (got 17)',
    },
    {
      name: 'a subnet id of 33 characters in OverrideVpcConfig',
      edits: [set(`${IG}/OverrideVpcConfig/Subnets/0`, s(33))],
      path: `${IG}/OverrideVpcConfig/Subnets/0`,
      message: 'at most 32 characters (got 33)',
    },
    {
      name: 'unknown OverrideVpcConfig field',
      edits: [set(`${IG}/OverrideVpcConfig/VpcId`, 'v')],
      path: `${IG}/OverrideVpcConfig/VpcId`,
      message: 'is not a known field of CreateCluster OverrideVpcConfig',
    },
    {
      name: 'unknown instance group field',
      edits: [set(`${IG}/MinCount`, 1)],
      path: `${IG}/MinCount`,
      message: 'is not a known field of CreateCluster InstanceGroup',
    },
    {
      name: 'instance group field with a typo',
      edits: [set(`${IG}/InstanceCont`, 2)],
      path: `${IG}/InstanceCont`,
      message: 'did you mean "InstanceCount"?',
    },
    {
      name: 'an instance group that is not an object',
      edits: [set(`${IG}`, 'workers')],
      path: IG,
      message: 'must be an object (got string)',
    },
  ])('rejects $name', expectOnly);
});

// ---- the whole CreateCluster API: every member the SDK model has, as the schema declares them ----

const EVERY_MEMBER = JSON.parse(
  readFileSync(new URL('../fixtures/requests/hyperpod-every-member.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;
const EVERY_MEMBER_SLURM = edited(EVERY_MEMBER, [set('/cluster/Orchestrator', { Slurm: { SlurmConfigStrategy: 'Managed' } })]);

type JsonSchema = {
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  additionalProperties?: unknown;
  enum?: unknown[];
};
const DEFS = (REQUEST_SCHEMA as unknown as { $defs: Record<string, JsonSchema> }).$defs;
const defName = (schema: JsonSchema | undefined) => schema?.$ref?.replace('#/$defs/', '');

/** `Shape.Member` for every member of every structure reachable from CreateClusterRequest. */
const declaredMembers = (): Set<string> => {
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const [member, schema] of Object.entries(DEFS[name]?.properties ?? {})) {
      out.add(`${name}.${member}`);
      const target = defName(schema) ?? defName(schema.items);
      if (target) visit(target);
    }
  };
  visit('CreateClusterRequest');
  return out;
};

/** `Shape.Member` for every member a request sets. */
const usedMembers = (value: unknown, name: string, out = new Set<string>()): Set<string> => {
  if (Array.isArray(value)) value.forEach((item) => usedMembers(item, name, out));
  else if (value && typeof value === 'object' && DEFS[name]?.properties)
    for (const [member, child] of Object.entries(value)) {
      out.add(`${name}.${member}`);
      const schema = DEFS[name]?.properties?.[member];
      const target = defName(schema) ?? defName(schema?.items);
      if (target) usedMembers(child, target, out);
    }
  return out;
};

describe('validateRequest: every member of the SageMaker CreateCluster API', () => {
  it('accepts a request that sets every CreateClusterRequest member (flexible and Spot groups, Continuous mode, restricted groups), with no warnings', () => {
    for (const request of [EVERY_MEMBER, EVERY_MEMBER_SLURM]) {
      const result = validateRequest(request);
      expect(result.errors).toEqual([]);
      expect(result.warnings).toEqual([]);
    }
  });

  it('the every-member request really sets every member the schema declares', () => {
    const used = new Set([
      ...usedMembers((EVERY_MEMBER as { cluster: unknown }).cluster, 'CreateClusterRequest'),
      ...usedMembers((EVERY_MEMBER_SLURM as { cluster: unknown }).cluster, 'CreateClusterRequest'),
    ]);
    expect([...declaredMembers()].filter((member) => !used.has(member))).toEqual([]);
  });

  const EG = '/cluster/InstanceGroups/0'; // the flexible group
  const SG = '/cluster/InstanceGroups/1'; // the Spot group with one InstanceType

  it.each<ValidCase>([
    ...['ml.g7.2xlarge', 'ml.g7.48xlarge', 'ml.g7e.8xlarge'].map((type) => ({
      name: `InstanceType ${type}`,
      edits: [set(`${IG}/InstanceType`, type)],
    })),
    { name: 'a flexible group without InstanceType', base: EVERY_MEMBER, edits: [] },
    {
      name: 'one fallback instance type',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/InstanceRequirements/InstanceTypes`, ['ml.g7.48xlarge'])],
    },
    { name: 'MinInstanceCount equal to InstanceCount', edits: [set(`${IG}/MinInstanceCount`, 2)] },
    { name: 'MinInstanceCount 0', edits: [set(`${IG}/MinInstanceCount`, 0)] },
    { name: 'no NodeProvisioningMode', base: EVERY_MEMBER, edits: [del('/cluster/NodeProvisioningMode')] },
    {
      name: 'an EBS root volume with a KMS key and no size',
      edits: [set(`${IG}/InstanceStorageConfigs/0/EbsVolumeConfig`, { RootVolume: true, VolumeKmsKeyId: 'k' })],
    },
  ])('accepts $name', expectValid);

  it.each<InvalidCase>([
    {
      name: 'InstanceType together with InstanceRequirements',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/InstanceType`, 'ml.p5.48xlarge')],
      path: `${EG}/InstanceRequirements`,
      message: 'cannot be set together with InstanceType: an instance group takes exactly one of InstanceType or InstanceRequirements',
    },
    {
      name: 'neither InstanceType nor InstanceRequirements',
      edits: [del(`${IG}/InstanceType`)],
      path: `${IG}/InstanceType`,
      message:
        'is required unless InstanceRequirements is set: an instance group takes exactly one of InstanceType or InstanceRequirements',
    },
    {
      name: 'MinInstanceCount above InstanceCount',
      edits: [set(`${IG}/MinInstanceCount`, 3)],
      path: `${IG}/MinInstanceCount`,
      message: 'must be at most InstanceCount (2) (got 3)',
    },
    {
      name: 'MinInstanceCount -1',
      edits: [set(`${IG}/MinInstanceCount`, -1)],
      path: `${IG}/MinInstanceCount`,
      message: 'must be at least 0 (got -1)',
    },
    {
      name: 'MinInstanceCount 1.5',
      edits: [set(`${IG}/MinInstanceCount`, 1.5)],
      path: `${IG}/MinInstanceCount`,
      message: 'must be an integer (got 1.5)',
    },
    {
      name: 'no fallback instance types',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/InstanceRequirements/InstanceTypes`, [])],
      path: `${EG}/InstanceRequirements/InstanceTypes`,
      message: 'must have at least 1 item (got 0)',
    },
    {
      name: 'an unknown fallback instance type',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/InstanceRequirements/InstanceTypes/2`, 'ML.G7.48XLARGE')],
      path: `${EG}/InstanceRequirements/InstanceTypes/2`,
      message: 'must be a HyperPod instance type listed in functions/core/hyperpod-instance-types.ts (did you mean "ml.g7.48xlarge"?)',
    },
    {
      name: 'an unknown InstanceRequirements member',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/InstanceRequirements/InstanceType`, 'ml.p5.48xlarge')],
      path: `${EG}/InstanceRequirements/InstanceType`,
      message: 'is not a known field of CreateCluster InstanceRequirements (did you mean "InstanceTypes"?)',
    },
    {
      name: 'NodeProvisioningMode in lower case',
      base: EVERY_MEMBER,
      edits: [set('/cluster/NodeProvisioningMode', 'continuous')],
      path: '/cluster/NodeProvisioningMode',
      message: 'must be one of: Continuous (did you mean "Continuous"?)',
    },
    {
      name: 'a CreateCluster member with a typo',
      base: EVERY_MEMBER,
      edits: [set('/cluster/NodeProvisioningMod', 'Continuous')],
      path: '/cluster/NodeProvisioningMod',
      message: 'is not a known field of CreateCluster (did you mean "NodeProvisioningMode"?)',
    },
    {
      name: 'an unknown instance group member',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/MaxInstanceCount`, 8)],
      path: `${EG}/MaxInstanceCount`,
      message: 'is not a known field of CreateCluster InstanceGroup (did you mean "MinInstanceCount"?)',
    },
    {
      name: 'Spot and OnDemand together',
      base: EVERY_MEMBER,
      edits: [set(`${SG}/CapacityRequirements/OnDemand`, {})],
      path: `${SG}/CapacityRequirements/OnDemand`,
      message: 'cannot be set together with Spot: CapacityRequirements takes exactly one of: Spot, OnDemand',
    },
    {
      name: 'empty CapacityRequirements',
      base: EVERY_MEMBER,
      edits: [set(`${SG}/CapacityRequirements`, {})],
      path: `${SG}/CapacityRequirements`,
      message: 'must set exactly one of: Spot, OnDemand (got none)',
    },
    {
      name: 'Spot options with a member',
      base: EVERY_MEMBER,
      edits: [set(`${SG}/CapacityRequirements/Spot`, { MaxPrice: 1 })],
      path: `${SG}/CapacityRequirements/Spot/MaxPrice`,
      message: 'is not a known field of CreateCluster CapacityRequirements.Spot',
    },
    {
      name: 'an unknown taint effect',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/KubernetesConfig/Taints/0/Effect`, 'NoScheduel')],
      path: `${EG}/KubernetesConfig/Taints/0/Effect`,
      message: 'must be one of: NoExecute, NoSchedule, PreferNoSchedule (did you mean "NoSchedule"?)',
    },
    {
      name: 'a taint without Effect',
      base: EVERY_MEMBER,
      edits: [del(`${EG}/KubernetesConfig/Taints/0/Effect`)],
      path: `${EG}/KubernetesConfig/Taints/0/Effect`,
      message: 'is required',
    },
    {
      name: 'a label value that is not a string',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/KubernetesConfig/Labels/team`, 1)],
      path: `${EG}/KubernetesConfig/Labels/team`,
      message: 'must be a string (got number)',
    },
    {
      name: 'a NextPatchDate that is not a date-time',
      base: EVERY_MEMBER,
      edits: [set(`${EG}/AutoPatchConfig/PatchSchedule/NextPatchDate`, 'Sunday')],
      path: `${EG}/AutoPatchConfig/PatchSchedule/NextPatchDate`,
      message: 'must be an RFC 3339 date-time with a zone',
    },
    {
      name: 'a rolling update without MaximumBatchSize',
      base: EVERY_MEMBER,
      edits: [del(`${EG}/ScheduledUpdateConfig/DeploymentConfig/RollingUpdatePolicy/MaximumBatchSize`)],
      path: `${EG}/ScheduledUpdateConfig/DeploymentConfig/RollingUpdatePolicy/MaximumBatchSize`,
      message: 'is required',
    },
    {
      name: 'an unknown member of a restricted group',
      base: EVERY_MEMBER,
      edits: [set('/cluster/RestrictedInstanceGroups/0/InstanceRequirements', {})],
      path: '/cluster/RestrictedInstanceGroups/0/InstanceRequirements',
      message: 'is not a known field of CreateCluster RestrictedInstanceGroup',
    },
    {
      name: 'a restricted group without InstanceType',
      base: EVERY_MEMBER,
      edits: [del('/cluster/RestrictedInstanceGroups/0/InstanceType')],
      path: '/cluster/RestrictedInstanceGroups/0/InstanceType',
      message: 'is required',
    },
    {
      name: 'a restricted group named like an instance group',
      base: EVERY_MEMBER,
      edits: [set('/cluster/RestrictedInstanceGroups/0/InstanceGroupName', 'spot-g7')],
      path: '/cluster/RestrictedInstanceGroups/0/InstanceGroupName',
      message: 'duplicates /cluster/InstanceGroups/1/InstanceGroupName: InstanceGroupName must be unique within the cluster',
    },
    {
      name: 'a ClusterRole that is not a role ARN',
      base: EVERY_MEMBER,
      edits: [set('/cluster/ClusterRole', 'arn:aws:iam::123456789012:user/x')],
      path: '/cluster/ClusterRole',
      message: 'must match ^arn:aws',
    },
    {
      name: 'AutoScaling without Mode',
      base: EVERY_MEMBER,
      edits: [del('/cluster/AutoScaling/Mode')],
      path: '/cluster/AutoScaling/Mode',
      message: 'is required',
    },
  ])('rejects $name', expectOnly);
});

describe('validateRequest: retry', () => {
  it.each<ValidCase>([
    ...['PT12H', 'PT1M', 'PT60S', 'P14D', 'P2W', 'P1DT12H'].map((duration) => ({
      name: `retry.for ${duration}`,
      edits: [set('/retry', { for: duration })],
    })),
    { name: 'retry.until with a zone', edits: [set('/retry', { until: '2026-12-02T08:00:00Z' })] },
    { name: 'retry.until with an offset', edits: [set('/retry', { until: '2026-12-02T13:30:00+05:30' })] },
    { name: 'retry with tir', base: TIR, edits: [set('/retry', { for: 'PT6H' })] },
  ])('accepts $name', expectValid);

  it.each<InvalidCase>([
    { name: 'retry.for P15D', edits: [set('/retry', { for: 'P15D' })], path: '/retry/for', message: 'must be at most P14D (14 days)' },
    { name: 'retry.for P14DT1S', edits: [set('/retry', { for: 'P14DT1S' })], path: '/retry/for', message: 'at most P14D' },
    { name: 'retry.for PT59S', edits: [set('/retry', { for: 'PT59S' })], path: '/retry/for', message: 'must be at least PT1M' },
    { name: 'retry.for in months', edits: [set('/retry', { for: 'P1M' })], path: '/retry/for', message: 'not a fixed length' },
    { name: 'retry.for as plain text', edits: [set('/retry', { for: '12h' })], path: '/retry/for', message: 'e.g. PT8H' },
    { name: 'retry.for as a number', edits: [set('/retry', { for: 3600 })], path: '/retry/for', message: 'must be a string (got number)' },
    {
      name: 'retry.until without a zone',
      edits: [set('/retry', { until: '2026-12-02T08:00:00' })],
      path: '/retry/until',
      message: 'must include a zone',
    },
    {
      name: 'retry.until on 31 November',
      edits: [set('/retry', { until: '2026-11-31T08:00:00Z' })],
      path: '/retry/until',
      message: 'real date and time',
    },
    {
      name: 'retry with both for and until',
      edits: [set('/retry', { for: 'PT1H', until: '2026-12-02T08:00:00Z' })],
      path: '/retry/until',
      message: 'cannot be set together with for: retry takes exactly one of: for, until',
    },
    { name: 'an empty retry', edits: [set('/retry', {})], path: '/retry', message: 'must set exactly one of: for, until (got none)' },
    {
      name: 'an unknown retry field',
      edits: [set('/retry', { For: 'PT1H' })],
      path: '/retry/For',
      message: 'is not a known field of retry (did you mean "for"?)',
      alsoAt: ['/retry'],
    },
    { name: 'retry as a string', edits: [set('/retry', 'PT12H')], path: '/retry', message: 'must be an object (got string)' },
  ])('rejects $name', expectOnly);
});

describe('validateRequest: capacityStrategy', () => {
  it.each<ValidCase>([
    { name: 'recreate', edits: [set('/capacityStrategy', 'recreate')] },
    { name: 'hold', edits: [set('/capacityStrategy', 'hold')] },
    { name: 'recreate with tir', base: TIR, edits: [set('/capacityStrategy', 'recreate')] },
  ])('accepts $name', expectValid);

  it.each<InvalidCase>([
    { name: 'an unknown strategy', edits: [set('/capacityStrategy', 'wait')], path: '/capacityStrategy', message: 'recreate' },
    {
      name: 'a strategy that is not a string',
      edits: [set('/capacityStrategy', 1)],
      path: '/capacityStrategy',
      message: 'must be a string',
    },
    {
      name: 'hold on tir',
      base: TIR,
      edits: [set('/capacityStrategy', 'hold')],
      path: '/capacityStrategy',
      message: 'hold needs SageMaker HyperPod',
    },
  ])('rejects $name', expectOnly);

  it("rejects hold with a TIR alternative, at that alternative's provider", () => {
    const request = {
      ...structuredClone(SAGEMAKER),
      capacityStrategy: 'hold',
      alternatives: [{ provider: 'tir', projectId: 4242, location: 'Delhi', cluster: structuredClone(TIR.cluster) }],
    };
    const { errors } = validateRequest(request);
    expect(errors).toEqual([{ path: '/alternatives/0/provider', message: expect.stringContaining('is tir: capacityStrategy hold needs') }]);
  });
});

describe('validateRequest: $schema', () => {
  it.each([
    ['sagemaker', SAGEMAKER],
    ['tir', TIR],
  ])('accepts and ignores a top-level $schema string with provider %s', (_, base) => {
    const request = { $schema: '../functions/contract/request.schema.json', ...base };
    expect(validateRequest(request)).toEqual({ valid: true, errors: [], warnings: [], request });
  });

  it('rejects a $schema that is not a string', () => {
    expectOnly({ name: '', edits: [set('/$schema', 1)], path: '/$schema', message: 'must be a string (got number)' });
  });
});

describe('validateRequest: the SourceS3Uri bucket warning', () => {
  it.each([
    ['an s3:// URI', 's3://team-bucket/lifecycle/'],
    ['a virtual-hosted https URI', 'https://team-bucket.s3.us-east-1.amazonaws.com/lc/'],
    ['a path-style https URI', 'https://s3.us-east-1.amazonaws.com/team-bucket/lc/'],
  ])('warns, without an error, about a non-sagemaker- bucket in %s', (_, uri) => {
    const result = validateRequest(edited(SAGEMAKER, [set(`${IG}/LifeCycleConfig/SourceS3Uri`, uri)]));
    expect(result.valid).toBe(true);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      { path: `${IG}/LifeCycleConfig/SourceS3Uri`, message: expect.stringContaining('does not start with "sagemaker-"') },
    ]);
    expect(result.warnings[0]?.message).toContain('managed instance policy');
  });

  it.each([
    ['a path-style https URI', 'https://s3.us-east-1.amazonaws.com/sagemaker-lc/x'],
    ['a virtual-hosted https URI', 'https://sagemaker-lc.s3.amazonaws.com/x'],
  ])('does not warn about a sagemaker- bucket in %s', (_, uri) => {
    expect(validateRequest(edited(SAGEMAKER, [set(`${IG}/LifeCycleConfig/SourceS3Uri`, uri)])).warnings).toEqual([]);
  });

  it('reports warnings alongside errors, separately', () => {
    const result = validateRequest(
      edited(SAGEMAKER, [set(`${IG}/LifeCycleConfig/SourceS3Uri`, 's3://team/lc/'), set('/cluster/ClusterName', '')]),
    );
    expect(result.errors.map((e) => e.path)).toEqual(['/cluster/ClusterName']);
    expect(result.warnings.map((w) => w.path)).toEqual([`${IG}/LifeCycleConfig/SourceS3Uri`]);
  });
});

describe('validateRequest: the TIR create body', () => {
  it.each<ValidCase>([
    {
      name: 'the minimal body',
      base: TIR,
      edits: ['script_added', 'lifecycle_script', 'sfs_mount_list', 'pfs_mount_list', 'dataset_mount_list'].map((f) =>
        del(`/cluster/${f}`),
      ),
    },
    { name: 'a name of 63 characters', base: TIR, edits: [set('/cluster/name', s(63))] },
    { name: 'one SSH key', base: TIR, edits: [set('/cluster/ssh_key_ids', [1])] },
    { name: 'one node', base: TIR, edits: [set('/cluster/no_of_nodes', 1)] },
    { name: '5000 nodes (no upper bound)', base: TIR, edits: [set('/cluster/no_of_nodes', 5000)] },
    {
      name: 'script_added false without a script',
      base: TIR,
      edits: [set('/cluster/script_added', false), del('/cluster/lifecycle_script')],
    },
    { name: 'a lifecycle script of 65536 characters', base: TIR, edits: [set('/cluster/lifecycle_script', s(65536))] },
    { name: 'an sfs mount with only an id', base: TIR, edits: [set('/cluster/sfs_mount_list/0', { id: 1 })] },
    { name: 'empty mount lists', base: TIR, edits: ['sfs', 'pfs', 'dataset'].map((kind) => set(`/cluster/${kind}_mount_list`, [])) },
    {
      name: 'undocumented keys on pfs and dataset mounts',
      base: TIR,
      edits: [set('/cluster/pfs_mount_list/0/mount_path', '/mnt/pfs'), set('/cluster/dataset_mount_list/0/anything', { x: 1 })],
    },
  ])('accepts $name', expectValid);

  const requiredFields = ['name', 'image_version_id', 'ssh_key_ids', 'security_group_id', 'sku_id', 'no_of_nodes', 'sku_item_price_id'];
  const idFields = ['image_version_id', 'security_group_id', 'sku_id', 'sku_item_price_id'];

  it.each<InvalidCase>([
    ...requiredFields.map((field) => ({
      name: `missing ${field}`,
      base: TIR,
      edits: [del(`/cluster/${field}`)],
      path: `/cluster/${field}`,
      message: 'is required',
    })),
    ...idFields.flatMap((field) =>
      [0, -1, 1.5, '7'].map((value) => ({
        name: `${field} ${JSON.stringify(value)}`,
        base: TIR,
        edits: [set(`/cluster/${field}`, value)],
        path: `/cluster/${field}`,
        message: 'must be a positive integer',
      })),
    ),
    {
      name: 'a name of 64 characters',
      base: TIR,
      edits: [set('/cluster/name', s(64))],
      path: '/cluster/name',
      message: 'at most 63 characters (got 64)',
    },
    { name: 'an empty name', base: TIR, edits: [set('/cluster/name', '')], path: '/cluster/name', message: 'at least 1 character' },
    {
      name: 'a name with a space',
      base: TIR,
      edits: [set('/cluster/name', 'my cluster')],
      path: '/cluster/name',
      message: `must match ${NAME_PATTERN}`,
    },
    {
      name: 'no SSH keys',
      base: TIR,
      edits: [set('/cluster/ssh_key_ids', [])],
      path: '/cluster/ssh_key_ids',
      message: 'at least 1 item (got 0)',
    },
    {
      name: 'ssh_key_ids as a number',
      base: TIR,
      edits: [set('/cluster/ssh_key_ids', 2001)],
      path: '/cluster/ssh_key_ids',
      message: 'must be an array (got number)',
    },
    {
      name: 'an SSH key id 0',
      base: TIR,
      edits: [set('/cluster/ssh_key_ids/1', 0)],
      path: '/cluster/ssh_key_ids/1',
      message: 'positive integer (got 0)',
    },
    {
      name: 'an SSH key id as a string',
      base: TIR,
      edits: [set('/cluster/ssh_key_ids/0', '2001')],
      path: '/cluster/ssh_key_ids/0',
      message: 'positive integer (got string)',
    },
    {
      name: 'a duplicate SSH key id (the later one)',
      base: TIR,
      edits: [set('/cluster/ssh_key_ids', [5, 6, 5])],
      path: '/cluster/ssh_key_ids/2',
      message: 'duplicates /cluster/ssh_key_ids/0',
    },
    {
      name: 'no_of_nodes 0',
      base: TIR,
      edits: [set('/cluster/no_of_nodes', 0)],
      path: '/cluster/no_of_nodes',
      message: 'at least 1 (got 0)',
    },
    {
      name: 'no_of_nodes 2.5',
      base: TIR,
      edits: [set('/cluster/no_of_nodes', 2.5)],
      path: '/cluster/no_of_nodes',
      message: 'must be an integer (got 2.5)',
    },
    {
      name: 'script_added without a lifecycle_script',
      base: TIR,
      edits: [del('/cluster/lifecycle_script')],
      path: '/cluster/lifecycle_script',
      message: 'is required when script_added is true',
    },
    {
      name: 'script_added with an empty lifecycle_script',
      base: TIR,
      edits: [set('/cluster/lifecycle_script', '')],
      path: '/cluster/lifecycle_script',
      message: 'must not be empty when script_added is true',
    },
    {
      name: 'script_added with a blank lifecycle_script',
      base: TIR,
      edits: [set('/cluster/lifecycle_script', ' \n\t')],
      path: '/cluster/lifecycle_script',
      message: 'must not be empty',
    },
    {
      name: 'script_added as a string',
      base: TIR,
      edits: [set('/cluster/script_added', 'yes')],
      path: '/cluster/script_added',
      message: 'must be true or false (got string)',
    },
    {
      name: 'a lifecycle script of 65537 characters',
      base: TIR,
      edits: [set('/cluster/lifecycle_script', s(65537))],
      path: '/cluster/lifecycle_script',
      message: 'at most 65536 characters (got 65537)',
    },
    {
      name: 'a lifecycle script that is not a string',
      base: TIR,
      edits: [set('/cluster/lifecycle_script', ['echo'])],
      path: '/cluster/lifecycle_script',
      message: 'must be a string (got array)',
    },
    {
      name: 'an sfs mount without an id',
      base: TIR,
      edits: [del('/cluster/sfs_mount_list/0/id')],
      path: '/cluster/sfs_mount_list/0/id',
      message: 'is required',
    },
    {
      name: 'an sfs mount id 0',
      base: TIR,
      edits: [set('/cluster/sfs_mount_list/0/id', 0)],
      path: '/cluster/sfs_mount_list/0/id',
      message: 'positive integer',
    },
    {
      name: 'an unknown sfs mount field',
      base: TIR,
      edits: [set('/cluster/sfs_mount_list/0/mountPath', '/mnt')],
      path: '/cluster/sfs_mount_list/0/mountPath',
      message: 'is not a known field of a TIR sfs_mount_list item (did you mean "mount_path"?)',
    },
    {
      name: 'an sfs mount_path that is not a string',
      base: TIR,
      edits: [set('/cluster/sfs_mount_list/0/mount_path', 1)],
      path: '/cluster/sfs_mount_list/0/mount_path',
      message: 'must be a string',
    },
    {
      name: 'a pfs mount without an id',
      base: TIR,
      edits: [set('/cluster/pfs_mount_list/0', { path: '/mnt' })],
      path: '/cluster/pfs_mount_list/0/id',
      message: 'is required',
    },
    {
      name: 'a dataset mount that is a number',
      base: TIR,
      edits: [set('/cluster/dataset_mount_list/0', 31)],
      path: '/cluster/dataset_mount_list/0',
      message: 'must be an object (got number)',
    },
    {
      name: 'a dataset mount id as a string',
      base: TIR,
      edits: [set('/cluster/dataset_mount_list/0/id', '31')],
      path: '/cluster/dataset_mount_list/0/id',
      message: 'positive integer',
    },
    {
      name: 'sfs_mount_list as an object',
      base: TIR,
      edits: [set('/cluster/sfs_mount_list', { id: 1 })],
      path: '/cluster/sfs_mount_list',
      message: 'must be an array (got object)',
    },
    {
      name: 'an unknown body field',
      base: TIR,
      edits: [set('/cluster/gpu_type', 'H100')],
      path: '/cluster/gpu_type',
      message: 'is not a known field of the TIR create body',
    },
    {
      name: 'a body field with a typo',
      base: TIR,
      edits: [set('/cluster/no_of_node', 2)],
      path: '/cluster/no_of_node',
      message: 'did you mean "no_of_nodes"?',
    },
    {
      name: 'a HyperPod body under provider tir',
      base: TIR,
      edits: [set('/cluster', SAGEMAKER.cluster)],
      path: '/cluster/ClusterName',
      message: 'is not a known field',
      alsoAt: [...['InstanceGroups', 'Tags', 'VpcConfig', 'Orchestrator', 'NodeRecovery'], ...requiredFields].map((f) => `/cluster/${f}`),
    },
  ])('rejects $name', expectOnly);

  it('warns, without an error, about a lifecycle_script that script_added does not enable', () => {
    const result = validateRequest(edited(TIR, [del('/cluster/script_added')]));
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([{ path: '/cluster/lifecycle_script', message: expect.stringContaining('script_added is not true') }]);
  });
});

describe('validateRequest: reporting', () => {
  it('reports every error at once, each at its own pointer', () => {
    const result = validateRequest(
      edited(SAGEMAKER, [set('/cluster/ClusterName', s(64)), set(`${IG}/InstanceCount`, 0), set('/cluster/Tags/0/Key', 'aws:x')]),
    );
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([
      { path: '/cluster/ClusterName', message: 'must be at most 63 characters (got 64)' },
      { path: `${IG}/InstanceCount`, message: 'must be at least 1 (got 0)' },
      { path: '/cluster/Tags/0/Key', message: 'must not start with aws: (reserved for AWS)' },
    ]);
    expect(result.request).toBeUndefined();
  });

  it('never echoes a huge value back', () => {
    const result = validateRequest(edited(SAGEMAKER, [set('/cluster/ClusterName', s(100_000, '_'))]));
    expect(result.errors[0]?.message).toBe('must be at most 63 characters (got 100000)');
  });

  it.each([
    ['null', null],
    ['an array', [SAGEMAKER]],
    ['a string', JSON.stringify(SAGEMAKER)],
    ['a number', 42],
    ['undefined', undefined],
  ])('answers %s with one error at the root', (_, input) => {
    const result = validateRequest(input);
    expect(result.valid).toBe(false);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.path).toBe('');
    expect(result.errors[0]?.message).toMatch(/^must be an object \(got \w+\)$/);
  });

  it('answers __proto__ and constructor keys at their pointers before the schema is walked, never as the prototype', () => {
    const input = JSON.parse(
      `{"provider":"sagemaker","__proto__":{"provider":"tir"},"constructor":1,
        "cluster":{"ClusterName":"x","InstanceGroups":[],"__proto__":{"polluted":true},"toString":"x"}}`,
    );
    const result = validateRequest(input);
    // Hostile keys are answered alone: /cluster/toString and /cluster/InstanceGroups are the schema's, once they are gone.
    expect(result.errors).toEqual(
      ['/__proto__', '/constructor', '/cluster/__proto__'].map((path) => ({
        path,
        message: "is not accepted as a key: __proto__, constructor and prototype can reach an object's prototype",
      })),
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not treat inherited properties as the fields they name', () => {
    const inherited = Object.create({ provider: 'sagemaker', cluster: SAGEMAKER.cluster }) as object;
    expect(validateRequest(inherited).errors.map((e) => e.path)).toEqual(['/provider', '/cluster']);
  });

  it('answers deeply nested garbage without throwing, at the first level past 32', () => {
    const chain = () => {
      let deep: unknown = 'leaf';
      for (let i = 0; i < 100_000; i++) deep = i % 2 ? { InstanceGroups: deep } : [deep];
      return deep;
    };
    const result = validateRequest({ provider: 'sagemaker', cluster: { ClusterName: 'x', InstanceGroups: [chain()], x: chain() } });
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([
      { path: `/cluster/x${'/InstanceGroups/0'.repeat(15)}`, message: 'is nested deeper than 32 levels of objects and arrays' },
      { path: `${IG}${'/InstanceGroups/0'.repeat(14)}/InstanceGroups`, message: 'is nested deeper than 32 levels of objects and arrays' },
    ]);
  });

  it('caps the listed errors of a huge array and says that more were found', () => {
    const result = validateRequest({
      provider: 'tir',
      projectId: 1,
      location: 'Delhi',
      cluster: { ...TIR.cluster, ssh_key_ids: Array(1_000_000).fill('x') },
    });
    expect(result.errors.length).toBeLessThanOrEqual(201);
    expect(result.errors.at(-1)).toEqual({ path: '', message: 'has more errors than the 200 listed' });
  });

  it('answers 10,000 __proto__ keys and deep nesting with the first 200 errors, in the order of the request', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 10_000; i++) deep = { Orchestrator: deep };
    const badGroups = Array.from(
      { length: 10_000 },
      () => JSON.parse('{"__proto__":{"InstanceType":"ml.g5.2xlarge"},"InstanceCount":"x"}') as unknown,
    );
    const result = validateRequest({ provider: 'sagemaker', cluster: { ClusterName: 'x', InstanceGroups: badGroups, Orchestrator: deep } });
    expect(result.errors).toHaveLength(201);
    expect(result.errors.slice(0, 2)).toEqual([
      {
        path: `${IG}/__proto__`,
        message: "is not accepted as a key: __proto__, constructor and prototype can reach an object's prototype",
      },
      { path: '/cluster/InstanceGroups/1/__proto__', message: expect.stringMatching(/^is not accepted as a key/) },
    ]);
    expect(result.errors.at(-1)).toEqual({ path: '', message: 'has more errors than the 200 listed' });
  });

  it('answers a self-referencing object as a cycle', () => {
    const cyclic: Record<string, unknown> = { provider: 'sagemaker', cluster: { ClusterName: 'x', InstanceGroups: [GROUP] } };
    cyclic.self = cyclic;
    expect(validateRequest(cyclic).errors).toEqual([{ path: '/self', message: 'contains itself (a cycle), which JSON cannot carry' }]);
  });
});

describe('validateRequest: hostile input, anywhere (pass-through objects included)', () => {
  const MOUNT = '/cluster/pfs_mount_list/0';
  /** The TIR base with `extra` in a pfs_mount_list item, whose keys other than id pass through to TIR. */
  const mount = (extra: Record<string, unknown>) => edited(TIR, [set(MOUNT, { id: 21, ...extra })]);
  const errorsOf = (input: unknown) => validateRequest(input).errors;

  it.each([
    ['Infinity (JSON 1e400)', Number.POSITIVE_INFINITY, 'must be a finite number: a JSON number this large is read as infinity'],
    ['-Infinity', Number.NEGATIVE_INFINITY, 'must be a finite number'],
    ['NaN', Number.NaN, 'must be a finite number'],
    ['2^53', 2 ** 53, 'must be at most 2^53 - 1 (9007199254740991) in magnitude: a larger JSON number loses its exact value'],
    ['-(2^53)', -(2 ** 53), 'must be at most 2^53 - 1'],
    ['1e300', 1e300, 'must be at most 2^53 - 1'],
    ['1e-200', 1e-200, 'must be 0 or at least 1e-130 in magnitude (the smallest number stored)'],
    ['-1e-131', -1e-131, 'must be 0 or at least 1e-130 in magnitude'],
  ])('answers %s at its pointer', (_, value, message) => {
    expect(errorsOf(mount({ size: value }))).toEqual([{ path: `${MOUNT}/size`, message: expect.stringContaining(message) }]);
  });

  it.each([
    ['2^53 - 1', 2 ** 53 - 1],
    ['-(2^53 - 1)', -(2 ** 53 - 1)],
    ['1e-130', 1e-130],
    ['-0', -0],
    ['0.5', 0.5],
    ['1.5e15', 1.5e15],
  ])('accepts %s', (_, value) => {
    expect(errorsOf(mount({ size: value }))).toEqual([]);
  });

  it('answers a number out of range where the schema has its own rule with the clearer message', () => {
    expect(errorsOf(edited(TIR, [set('/projectId', 2 ** 53 + 2)]))).toEqual([
      { path: '/projectId', message: expect.stringMatching(/^must be at most 2\^53 - 1/) },
    ]);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('answers a %s key in a pass-through object and inside a list', (key) => {
    const input = JSON.parse(`{"id": 21, "x": [{"${key}": 1}], "${key}": {}}`) as Record<string, unknown>;
    expect(errorsOf(edited(TIR, [set(MOUNT, input)])).map((e) => e.path)).toEqual([`${MOUNT}/x/0/${key}`, `${MOUNT}/${key}`]);
  });

  it('accepts 32 levels of objects and arrays, and answers the 33rd at its pointer', () => {
    const nest = (levels: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < levels; i++) value = i % 2 ? { a: value } : [value];
      return value;
    };
    // The root, cluster, pfs_mount_list and its item are 4 levels: `deep` may hold 28 more.
    expect(errorsOf(mount({ deep: nest(28) }))).toEqual([]);
    const [error, ...more] = errorsOf(mount({ deep: nest(29) }));
    expect(more).toEqual([]);
    expect(error?.message).toBe('is nested deeper than 32 levels of objects and arrays');
    expect(error?.path.split('/')).toHaveLength(33); // '' and 32 segments: the 33rd level
  });

  it('walks a million levels without recursion', () => {
    let deep: unknown = [];
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(errorsOf(mount({ deep }))).toEqual([
      { path: `${MOUNT}/deep${'/0'.repeat(28)}`, message: 'is nested deeper than 32 levels of objects and arrays' },
    ]);
  });

  it('answers an unpaired surrogate in a string or a key, and accepts a paired one', () => {
    expect(errorsOf(mount({ label: 'ok \ud83d\ude80', 'clé 🚀': 'données' }))).toEqual([]);
    expect(errorsOf(mount({ label: 'x\ud800', 'k\udc00': 1 }))).toEqual([
      {
        path: `${MOUNT}/label`,
        message: 'must be well-formed Unicode: it holds an unpaired surrogate (U+D800 to U+DFFF), which UTF-8 cannot carry',
      },
      { path: `${MOUNT}/k\udc00`, message: 'is a key holding an unpaired surrogate (U+D800 to U+DFFF), which UTF-8 cannot carry' },
    ]);
  });

  it('walks a value reached twice again when it is reached deeper (only code can build one)', () => {
    let shared: unknown = 1;
    for (let i = 0; i < 28; i++) shared = { a: shared };
    // 28 levels: at /cluster/pfs_mount_list/0/x (below 4 levels) it fits; one level deeper it does not.
    const errors = errorsOf(mount({ x: shared, y: { z: shared } }));
    expect(errors.map((e) => e.path)).toEqual([`${MOUNT}/y/z${'/a'.repeat(27)}`]);
  });

  it('answers only the structure problems, and the schema once they are gone', () => {
    const input = edited(TIR, [set('/cluster/sku_id', 'x'), set(MOUNT, { id: 21, size: Number.POSITIVE_INFINITY })]);
    expect(errorsOf(input).map((e) => e.path)).toEqual([`${MOUNT}/size`]);
    expect(errorsOf(edited(input as object, [set(`${MOUNT}/size`, 1)])).map((e) => e.path)).toEqual(['/cluster/sku_id']);
  });
});

describe('parseRequest', () => {
  it('returns the typed request when valid', () => {
    const request = parseRequest(TIR);
    expect(request.provider).toBe('tir');
    expect(request).toBe(TIR);
  });

  it('throws RequestValidationError carrying every error and the warnings', () => {
    const input = edited(SAGEMAKER, [set('/cluster/ClusterName', ''), set(`${IG}/LifeCycleConfig/SourceS3Uri`, 's3://team/lc')]);
    let thrown: unknown;
    try {
      parseRequest(input);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(RequestValidationError);
    const error = thrown as RequestValidationError;
    expect(error.name).toBe('RequestValidationError');
    expect(error.errors).toEqual([{ path: '/cluster/ClusterName', message: 'must be at least 1 character (got 0)' }]);
    expect(error.warnings.map((w) => w.path)).toEqual([`${IG}/LifeCycleConfig/SourceS3Uri`]);
  });
});

describe('durationSeconds', () => {
  it.each([
    ['PT8H', 8 * 3600],
    ['P1DT12H', 36 * 3600],
    ['P2W', 14 * 86400],
    ['PT1M30S', 90],
    ['P1Y', undefined],
    ['PT', undefined],
    ['P', undefined],
  ])('reads %s as %s seconds', (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });
});
