/**
 * The SageMaker simulator's capacity model, driven through the real @aws-sdk/client-sagemaker: quota at create,
 * capacity when the cluster comes up (RollingBack -> Failed with EC2's wording), MinInstanceCount, Continuous
 * provisioning, flexible instance groups, and regions.
 */
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  ListClustersCommand,
  SageMakerClient,
  type CreateClusterCommandInput,
  type DescribeClusterCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { afterEach, describe, expect, it } from 'vitest';
import { startSageMakerSimulator, type SageMakerSimulator, type SageMakerSimulatorOptions } from '../../local/simulators/sagemaker';
import { hyperpodGroup } from '../fixtures/clusters';

const P5 = 'ml.p5.48xlarge';
const P4D = 'ml.p4d.24xlarge';
const TIMING = { readyAfterMs: 50, deleteAfterMs: 50, rollbackMs: 60 };

let sim: SageMakerSimulator | undefined;
const start = async (options: SageMakerSimulatorOptions = {}): Promise<SageMakerSimulator> => {
  sim = await startSageMakerSimulator({ ...TIMING, ...options });
  return sim;
};
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const clientOf = (s: SageMakerSimulator, region = 'us-east-1') =>
  new SageMakerClient({ region, endpoint: s.endpoint, maxAttempts: 1, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

type Group = NonNullable<CreateClusterCommandInput['InstanceGroups']>[number];
const group = (overrides: Record<string, unknown> = {}): Group => hyperpodGroup(overrides as never) as Group;

const create = (client: SageMakerClient, name: string, groups: Group[], extra: Partial<CreateClusterCommandInput> = {}) =>
  client.send(new CreateClusterCommand({ ClusterName: name, InstanceGroups: groups, ...extra }));
const describeCluster = (client: SageMakerClient, name: string) => client.send(new DescribeClusterCommand({ ClusterName: name }));
const remove = (client: SageMakerClient, name: string) => client.send(new DeleteClusterCommand({ ClusterName: name }));

/** Describes until `done` holds (polling every 5 ms, at most 2 s); returns every answer seen. */
const until = async (client: SageMakerClient, name: string, done: (d: DescribeClusterCommandOutput) => boolean) => {
  const seen: DescribeClusterCommandOutput[] = [];
  const deadline = Date.now() + 2_000;
  for (;;) {
    const d = await describeCluster(client, name);
    seen.push(d);
    if (done(d)) return seen;
    if (Date.now() > deadline) throw new Error(`${name} stayed ${d.ClusterStatus}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};
const statusIs = (status: string) => (d: DescribeClusterCommandOutput) => d.ClusterStatus === status;

/** Waits until the cluster is gone (DescribeCluster answers ResourceNotFound). */
const gone = async (client: SageMakerClient, name: string) => {
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline) {
    const err = await describeCluster(client, name).then(
      () => undefined,
      (e: Error) => e,
    );
    if (err) return err;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${name} never went away`);
};

const rejectionOf = async (promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> => {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
};

const quotaMessage = (type: string, limit: number, usage: number, delta: number) =>
  `The account-level service limit '${type} for cluster usage' is ${limit} Instances, with current utilization of ${usage} Instances ` +
  `and a request delta of ${delta} Instances. Please use AWS Service Quotas to request an increase for this quota. ` +
  'If AWS Service Quotas is not available, contact AWS support to request an increase for this quota.';

describe('quota at CreateCluster (ResourceLimitExceeded)', () => {
  it('refuses a request larger than the limit itself, with AWS message format', async () => {
    const s = await start({ quotas: { [P5]: 1 } });
    const err = await rejectionOf(create(clientOf(s), 'too-big', [group({ InstanceCount: 2 })]));
    expect(err.name).toBe('ResourceLimitExceeded');
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toBe(quotaMessage(P5, 1, 0, 2));
    expect(s.clusters()).toEqual([]);
  });

  it('refuses when usage + delta exceeds the limit, counting the live clusters of the account, and accepts once they are gone', async () => {
    const s = await start({ quotas: { [P5]: 4 } });
    const client = clientOf(s);
    await create(client, 'holder', [group({ InstanceCount: 4 })]);
    const creating = await rejectionOf(create(client, 'second', [group({ InstanceCount: 2 })]));
    expect(creating.message).toBe(quotaMessage(P5, 4, 4, 2)); // a Creating cluster counts
    await until(client, 'holder', statusIs('InService'));
    expect((await rejectionOf(create(client, 'second', [group({ InstanceCount: 2 })]))).message).toBe(quotaMessage(P5, 4, 4, 2));
    await remove(client, 'holder');
    expect((await rejectionOf(create(client, 'second', [group({ InstanceCount: 2 })]))).name).toBe('ResourceLimitExceeded'); // still deleting
    await gone(client, 'holder');
    expect(s.quotaUsage(P5)).toBe(0);
    await expect(create(client, 'second', [group({ InstanceCount: 2 })])).resolves.toMatchObject({ ClusterArn: expect.any(String) });
  });

  it('sums the delta over the groups of one type, and lets setQuota change a limit', async () => {
    const s = await start();
    const client = clientOf(s);
    s.setQuota(P5, 3);
    const groups = [group({ InstanceCount: 2 }), group({ InstanceGroupName: 'more', InstanceCount: 2 })];
    expect((await rejectionOf(create(client, 'two-groups', groups))).message).toBe(quotaMessage(P5, 3, 0, 4));
    s.setQuota(P5, 4);
    await expect(create(client, 'two-groups', groups)).resolves.toBeDefined();
  });

  it('is not capacity: a shortage is accepted at create, and a rolled-back cluster holds no quota', async () => {
    const s = await start({ quotas: { [P5]: 4 }, capacity: { [P5]: 1 } });
    const client = clientOf(s);
    await create(client, 'short', [group({ InstanceCount: 4 })]);
    await until(client, 'short', (d) => d.ClusterStatus !== 'Creating');
    expect(s.quotaUsage(P5)).toBe(0);
    await expect(create(client, 'short-2', [group({ InstanceCount: 4 })])).resolves.toBeDefined();
  });
});

describe('capacity when the cluster comes up', () => {
  it('accepts a create it cannot serve, then RollingBack -> Failed with EC2 wording; the name stays taken until deleted', async () => {
    // Each state lasts long enough (400 ms) to be seen between two calls however loaded the machine is.
    const s = await start({ capacity: { [P5]: 2 }, readyAfterMs: 400, rollbackMs: 400, deleteAfterMs: 400 });
    const client = clientOf(s);
    const { ClusterArn } = await create(client, 'p5-short', [group({ InstanceCount: 4 })]);
    expect(ClusterArn).toMatch(/^arn:aws:sagemaker:us-east-1:123456789012:cluster\/[a-z0-9]{12}$/);
    const first = await describeCluster(client, 'p5-short');
    expect(first.ClusterStatus).toBe('Creating');

    const seen = [first, ...(await until(client, 'p5-short', statusIs('Failed')))];
    const statuses = [...new Set(seen.map((d) => d.ClusterStatus))];
    expect(statuses).toEqual(['Creating', 'RollingBack', 'Failed']);
    const failed = seen.at(-1)!;
    const message =
      'We currently do not have sufficient ml.p5.48xlarge capacity in the Availability Zone you requested (us-east-1a). ' +
      'Our system will be working on provisioning additional capacity. ' +
      'You can currently get ml.p5.48xlarge capacity by not specifying an Availability Zone in your request or choosing us-east-1b, us-east-1c.';
    expect(failed.FailureMessage).toBe(message);
    expect(seen.find((d) => d.ClusterStatus === 'RollingBack')!.FailureMessage).toBe(message);
    expect(failed.InstanceGroups).toMatchObject([{ InstanceGroupName: 'workers', Status: 'Failed', CurrentCount: 0, TargetCount: 4 }]);
    expect(s.available(P5)).toBe(2); // a rolled-back cluster holds nothing

    expect((await rejectionOf(create(client, 'p5-short', [group({ InstanceCount: 2 })]))).name).toBe('ResourceInUse');
    await remove(client, 'p5-short');
    expect((await describeCluster(client, 'p5-short')).ClusterStatus).toBe('Deleting');
    expect((await rejectionOf(create(client, 'p5-short', [group({ InstanceCount: 2 })]))).name).toBe('ResourceInUse');
    expect((await gone(client, 'p5-short')).name).toBe('ResourceNotFound');
    await create(client, 'p5-short', [group({ InstanceCount: 2 })]);
    await until(client, 'p5-short', statusIs('InService'));
  });

  it('takes all groups or none: a short second group leaves the first group without instances', async () => {
    const s = await start({ capacity: { [P5]: 4, [P4D]: 1 } });
    const client = clientOf(s);
    await create(client, 'mixed', [group({ InstanceCount: 4 }), group({ InstanceGroupName: 'head', InstanceType: P4D, InstanceCount: 2 })]);
    const failed = (await until(client, 'mixed', statusIs('Failed'))).at(-1)!;
    expect(failed.FailureMessage).toContain('sufficient ml.p4d.24xlarge capacity');
    expect(failed.InstanceGroups!.map((g) => [g.Status, g.CurrentCount])).toEqual([
      ['Failed', 0],
      ['Failed', 0],
    ]);
    expect([s.available(P5), s.available(P4D)]).toEqual([4, 1]);
  });

  it('a recreate comes up once deleting another cluster frees the capacity', async () => {
    const s = await start({ capacity: { [P5]: 4 } });
    const client = clientOf(s);
    await create(client, 'first', [group({ InstanceCount: 4 })]);
    await until(client, 'first', statusIs('InService'));
    expect(s.available(P5)).toBe(0);

    await create(client, 'second', [group({ InstanceCount: 4 })]);
    await until(client, 'second', statusIs('Failed'));
    await remove(client, 'second');
    await remove(client, 'first');
    await gone(client, 'first');
    await gone(client, 'second');
    expect(s.available(P5)).toBe(4);

    await create(client, 'second', [group({ InstanceCount: 4 })]);
    const up = (await until(client, 'second', statusIs('InService'))).at(-1)!;
    expect(up.InstanceGroups).toMatchObject([{ CurrentCount: 4, TargetCount: 4, Status: 'InService' }]);
    expect(s.available(P5)).toBe(0);
  });

  it('applies what happened in time order: a deletion finishing before another cluster is due frees its capacity in time', async () => {
    const s = await start({ capacity: { [P5]: 2 }, readyAfterMs: 150, deleteAfterMs: 20 });
    const client = clientOf(s);
    await create(client, 'old', [group()]);
    await until(client, 'old', statusIs('InService'));
    await create(client, 'new', [group()]); // due in 150 ms
    await remove(client, 'old'); // gone in 20 ms, before the new one is due
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing asked in between: settled lazily
    expect((await describeCluster(client, 'new')).ClusterStatus).toBe('InService');
    expect(s.clusters()).toEqual([{ name: 'new', arn: expect.any(String), region: 'us-east-1', status: 'InService', held: { [P5]: 2 } }]);
  });
});

describe('MinInstanceCount and Continuous provisioning', () => {
  it('a group comes up with at least MinInstanceCount and tops up to its target as capacity frees', async () => {
    const s = await start({ capacity: { [P5]: 5 } });
    const client = clientOf(s);
    await create(client, 'blocker', [group({ InstanceCount: 2 })]);
    await until(client, 'blocker', statusIs('InService'));

    await create(client, 'at-least-two', [group({ InstanceCount: 5, MinInstanceCount: 2 })]);
    const up = (await until(client, 'at-least-two', statusIs('InService'))).at(-1)!;
    expect(up.InstanceGroups).toMatchObject([{ MinCount: 2, TargetCount: 5, CurrentCount: 3, Status: 'InService' }]);
    expect(s.available(P5)).toBe(0);

    await remove(client, 'blocker');
    await gone(client, 'blocker');
    const topped = await describeCluster(client, 'at-least-two');
    expect(topped.InstanceGroups).toMatchObject([{ MinCount: 2, TargetCount: 5, CurrentCount: 5, Status: 'InService' }]);
    expect(s.available(P5)).toBe(0);
  });

  it('rolls back when fewer than MinInstanceCount are free', async () => {
    const s = await start({ capacity: { [P5]: 1 } });
    const client = clientOf(s);
    await create(client, 'needs-two', [group({ InstanceCount: 4, MinInstanceCount: 2 })]);
    expect((await until(client, 'needs-two', statusIs('Failed'))).at(-1)!.FailureMessage).toMatch(
      /^We currently do not have sufficient ml\.p5\.48xlarge capacity/,
    );
  });

  it('Continuous: InService with whatever it got (even none), Creating groups below target, topped up later', async () => {
    const s = await start({ capacity: { [P5]: 3 } });
    const client = clientOf(s);
    await create(client, 'hog', [group({ InstanceCount: 3 })]);
    await until(client, 'hog', statusIs('InService'));

    await create(
      client,
      'patient',
      [group({ InstanceCount: 2 }), group({ InstanceGroupName: 'head', InstanceType: P4D, InstanceCount: 1 })],
      {
        NodeProvisioningMode: 'Continuous',
      },
    );
    const up = (await until(client, 'patient', statusIs('InService'))).at(-1)!;
    expect(up.NodeProvisioningMode).toBe('Continuous');
    expect(up.InstanceGroups!.map((g) => [g.InstanceGroupName, g.CurrentCount, g.TargetCount, g.Status])).toEqual([
      ['workers', 0, 2, 'Creating'],
      ['head', 1, 1, 'InService'],
    ]);

    s.setCapacity(P5, 4); // one more node arrives
    expect((await describeCluster(client, 'patient')).InstanceGroups![0]).toMatchObject({ CurrentCount: 1, Status: 'Creating' });
    await remove(client, 'hog');
    await gone(client, 'hog');
    expect((await describeCluster(client, 'patient')).InstanceGroups![0]).toMatchObject({
      CurrentCount: 2,
      TargetCount: 2,
      Status: 'InService',
    });
    expect(s.available(P5)).toBe(2);
  });
});

describe('flexible instance groups (InstanceRequirements)', () => {
  const flexible = (types: string[], overrides: Record<string, unknown> = {}) =>
    group({ InstanceType: undefined, InstanceRequirements: { InstanceTypes: types }, ...overrides });

  it('comes up on the first type with room and reports it as DescribeCluster does', async () => {
    const s = await start({ capacity: { [P5]: 1, [P4D]: 8 } });
    const client = clientOf(s);
    await create(client, 'flex', [flexible([P5, P4D], { InstanceCount: 2, ThreadsPerCore: 1 })]);
    const [g] = (await until(client, 'flex', statusIs('InService'))).at(-1)!.InstanceGroups!;
    expect(g).not.toHaveProperty('InstanceType');
    expect(g).toMatchObject({
      CurrentCount: 2,
      TargetCount: 2,
      Status: 'InService',
      InstanceRequirements: { CurrentInstanceTypes: [P4D], DesiredInstanceTypes: [P5, P4D] },
      InstanceTypeDetails: [{ InstanceType: P4D, CurrentCount: 2, ThreadsPerCore: 1 }],
    });
    expect([s.available(P5), s.available(P4D)]).toEqual([1, 6]);
  });

  it('prefers the first type when it has room', async () => {
    const s = await start({ capacity: { [P5]: 2, [P4D]: 8 } });
    const client = clientOf(s);
    await create(client, 'flex-first', [flexible([P5, P4D])]);
    const [g] = (await until(client, 'flex-first', statusIs('InService'))).at(-1)!.InstanceGroups!;
    expect(g!.InstanceTypeDetails).toEqual([{ InstanceType: P5, CurrentCount: 2, ThreadsPerCore: 2 }]);
  });

  it('with a minimum, comes up on the first type with room for it and tops up from the types in order', async () => {
    const s = await start({ capacity: { [P5]: 1, [P4D]: 2 } });
    const client = clientOf(s);
    await create(client, 'flex-min', [flexible([P5, P4D], { InstanceCount: 4, MinInstanceCount: 2 })]);
    const [g] = (await until(client, 'flex-min', statusIs('InService'))).at(-1)!.InstanceGroups!;
    // p5 has no room for the minimum of 2: up on p4d (2), then the one free p5 joins
    expect(g).toMatchObject({
      CurrentCount: 3,
      MinCount: 2,
      TargetCount: 4,
      Status: 'InService',
      InstanceTypeDetails: [
        { InstanceType: P5, CurrentCount: 1 },
        { InstanceType: P4D, CurrentCount: 2 },
      ],
    });
    s.setCapacity(P5, 2);
    const [later] = (await describeCluster(client, 'flex-min')).InstanceGroups!;
    expect(later).toMatchObject({
      CurrentCount: 4,
      Status: 'InService',
      InstanceRequirements: { CurrentInstanceTypes: [P5, P4D] },
      InstanceTypeDetails: [
        { InstanceType: P5, CurrentCount: 2 },
        { InstanceType: P4D, CurrentCount: 2 },
      ],
    });
  });

  it('rolls back when no type has room, naming the first type', async () => {
    const s = await start({ capacity: { [P5]: 1, [P4D]: 1 } });
    const client = clientOf(s);
    await create(client, 'flex-none', [flexible([P5, P4D])]);
    expect((await until(client, 'flex-none', statusIs('Failed'))).at(-1)!.FailureMessage).toContain('sufficient ml.p5.48xlarge capacity');
  });

  it('validates the real members: exactly one of InstanceType / InstanceRequirements, known types, MinInstanceCount <= InstanceCount', async () => {
    const s = await start();
    const client = clientOf(s);
    const invalid = async (g: Group) => {
      const err = await rejectionOf(create(client, 'invalid', [g]));
      expect(err.name).toBe('ValidationException');
      return err.message;
    };
    expect(await invalid(group({ InstanceRequirements: { InstanceTypes: [P5] } }))).toContain(
      "at 'instanceGroups.1.member.instanceRequirements'",
    );
    expect(await invalid(group({ InstanceType: undefined }))).toContain("Value null at 'instanceGroups.1.member.instanceType'");
    expect(await invalid(flexible([]))).toContain("at 'instanceGroups.1.member.instanceRequirements.instanceTypes'");
    expect(await invalid(flexible([P5, 'ml.nope.large']))).toContain(
      "Value 'ml.nope.large' at 'instanceGroups.1.member.instanceRequirements.instanceTypes.2.member'",
    );
    expect(await invalid(group({ InstanceCount: 2, MinInstanceCount: 3 }))).toContain(
      "Value '3' at 'instanceGroups.1.member.minInstanceCount'",
    );
    expect((await rejectionOf(create(client, 'invalid', [group()], { NodeProvisioningMode: 'Sometimes' as never }))).message).toContain(
      "at 'nodeProvisioningMode'",
    );
    // the model's other members are accepted as they are
    await expect(
      create(client, 'all-members', [flexible([P5], { MinInstanceCount: 0, CapacityRequirements: { OnDemand: {} }, ImageId: 'default' })], {
        NodeProvisioningMode: 'Continuous',
        NodeRecovery: 'Automatic',
        ClusterRole: 'arn:aws:iam::123456789012:role/HyperPodCluster',
        AutoScaling: { Mode: 'Disable' } as never,
        TieredStorageConfig: { Mode: 'Disable' } as never,
      }),
    ).resolves.toBeDefined();
  });
});

describe('regions', () => {
  it('reads the region from the SigV4 credential scope: per-region clusters, ARNs, capacity and request log', async () => {
    const s = await start({ capacity: { [P5]: 2 }, regionCapacity: { 'us-west-2': { [P5]: 4 } } });
    const east = clientOf(s, 'us-east-1');
    const west = clientOf(s, 'us-west-2');
    const inWest = await create(west, 'twin', [group({ InstanceCount: 4 })]);
    const inEast = await create(east, 'twin', [group({ InstanceCount: 4 })]); // same name, another region: another cluster
    expect(inWest.ClusterArn).toMatch(/^arn:aws:sagemaker:us-west-2:123456789012:cluster\//);
    expect(inEast.ClusterArn).toMatch(/^arn:aws:sagemaker:us-east-1:123456789012:cluster\//);

    await until(west, 'twin', statusIs('InService'));
    const eastFailed = (await until(east, 'twin', statusIs('Failed'))).at(-1)!;
    expect(eastFailed.FailureMessage).toContain('in the Availability Zone you requested (us-east-1a)');
    expect([s.available(P5, 'us-west-2'), s.available(P5, 'us-east-1'), s.available(P5)]).toEqual([0, 2, 2]);

    expect(s.clusters('us-west-2').map((c) => [c.name, c.status])).toEqual([['twin', 'InService']]);
    expect(s.clusters('us-east-1').map((c) => [c.name, c.status])).toEqual([['twin', 'Failed']]);
    expect(s.clusters()).toHaveLength(2);
    const listed = await west.send(new ListClustersCommand({}));
    expect(listed.ClusterSummaries!.map((c) => c.ClusterArn)).toEqual([inWest.ClusterArn]);
    expect((await rejectionOf(east.send(new DescribeClusterCommand({ ClusterName: inWest.ClusterArn })))).name).toBe('ResourceNotFound');

    const creates = s.requests.filter((r) => r.operation === 'CreateCluster');
    expect(creates.map((r) => r.region)).toEqual(['us-west-2', 'us-east-1']);
    expect(s.describe('twin', 'us-west-2')).toMatchObject({ ClusterArn: inWest.ClusterArn });
    expect(s.describe(inWest.ClusterArn!)).toMatchObject({ ClusterStatus: 'InService' });
    expect(s.describe('twin')).toMatchObject({ ClusterArn: inEast.ClusterArn }); // the default region first
  });

  it('keeps quota per region (regionQuotas, setQuota with a region)', async () => {
    const s = await start({ quotas: { [P5]: 2 }, regionQuotas: { 'eu-west-1': { [P5]: 8 } } });
    const east = clientOf(s, 'us-east-1');
    const ireland = clientOf(s, 'eu-west-1');
    expect((await rejectionOf(create(east, 'four', [group({ InstanceCount: 4 })]))).message).toBe(quotaMessage(P5, 2, 0, 4));
    await create(ireland, 'four', [group({ InstanceCount: 4 })]);
    s.setQuota(P5, 4, 'us-east-1');
    await create(east, 'four', [group({ InstanceCount: 4 })]);
    expect([s.quotaUsage(P5, 'us-east-1'), s.quotaUsage(P5, 'eu-west-1'), s.quotaUsage(P5, 'us-west-2')]).toEqual([4, 4, 0]);
  });

  it('falls back to the region option when the credential scope names none', async () => {
    const s = await start({ region: 'ap-south-1' });
    const response = await fetch(s.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'SageMaker.CreateCluster',
        authorization: 'AWS4-HMAC-SHA256 Credential=AKID/, SignedHeaders=host, Signature=abc',
      },
      body: JSON.stringify({ ClusterName: 'fallback', InstanceGroups: [group()] }),
    });
    expect(((await response.json()) as { ClusterArn: string }).ClusterArn).toMatch(/^arn:aws:sagemaker:ap-south-1:/);
    expect(s.requests[0]).toMatchObject({ operation: 'CreateCluster', region: 'ap-south-1', status: 200 });
  });
});

describe('failCluster (non-capacity failures)', () => {
  it('fails a cluster that came up and releases what it held', async () => {
    const s = await start({ capacity: { [P5]: 2 } });
    const client = clientOf(s);
    await create(client, 'scripted', [group()]);
    await until(client, 'scripted', statusIs('InService'));
    expect(s.available(P5)).toBe(0);
    s.failCluster('scripted', 'Lifecycle script on_create.sh exited with 1');
    expect(await describeCluster(client, 'scripted')).toMatchObject({
      ClusterStatus: 'Failed',
      FailureMessage: 'Lifecycle script on_create.sh exited with 1',
    });
    expect(s.available(P5)).toBe(2);
    expect(s.quotaUsage(P5)).toBe(0);
  });
});
