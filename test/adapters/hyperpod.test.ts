import { CreateClusterCommand, ListTagsCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHyperPodProvider, describeHyperPodCluster, HYPERPOD_ERROR_TABLE, toHyperPodError } from '../../functions/adapters/hyperpod';
import { DEPLOYMENT_TAG, REQUEST_ID_TAG, type ClusterProvider, type ClusterRef } from '../../functions/core/provider';
import type { SageMakerClusterSpec } from '../../functions/core/request';
import { startSageMakerSimulator, type SageMakerSimulator } from '../../local/simulators/sagemaker';
import { hyperpodGroup } from '../fixtures/clusters';
import { rejection, until, untilGone } from '../helpers/provider';

const location = { provider: 'sagemaker' as const, region: 'us-east-1' };
const DEPLOYMENT = 'gpu-cluster-provisioner-test';
const ref = (clusterName: string, providerId?: string): ClusterRef => ({ location, clusterName, ...(providerId ? { providerId } : {}) });

const spec = (name: string, overrides: Partial<SageMakerClusterSpec['InstanceGroups'][number]> = {}): SageMakerClusterSpec => ({
  ClusterName: name,
  InstanceGroups: [hyperpodGroup(overrides)],
  Tags: [{ Key: 'team', Value: 'research' }],
});

describe('HyperPod provider against the SageMaker simulator, through the real SDK', () => {
  let sim: SageMakerSimulator;
  let provider: ClusterProvider; // one SDK attempt: each injected fault is seen once
  let previousEndpoint: string | undefined;
  let n = 0;
  const unique = (prefix: string) => `${prefix}-${(n += 1)}`;

  beforeAll(async () => {
    // A new cluster stays Creating, a deleted one Deleting, for about half a second: long enough to be seen between two
    // calls on a loaded machine.
    sim = await startSageMakerSimulator({ readyAfterMs: 400, deleteAfterMs: 500, rejectAccessKeys: ['AKIDREJECTED'] });
    previousEndpoint = process.env.AWS_ENDPOINT_URL_SAGEMAKER;
    process.env.AWS_ENDPOINT_URL_SAGEMAKER = sim.endpoint; // the adapter never sets an endpoint: the SDK reads this
    provider = createHyperPodProvider({ deployment: DEPLOYMENT, maxAttempts: 1 });
  });
  afterAll(async () => {
    if (previousEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL_SAGEMAKER;
    else process.env.AWS_ENDPOINT_URL_SAGEMAKER = previousEndpoint;
    await sim.close();
  });
  afterEach(() => sim.clearFaults());

  it('reaches the endpoint named by AWS_ENDPOINT_URL_SAGEMAKER and adds the request-id and deployment tags to the user tags', async () => {
    const name = unique('tagged');
    const created = await provider.create({ location, requestId: 'req-tagged', cluster: spec(name) });
    expect(created.providerId).toMatch(/^arn:aws:sagemaker:us-east-1:[0-9]{12}:cluster\/[a-z0-9]{12}$/);
    const sent = sim.requests.find((r) => r.operation === 'CreateCluster' && (r.body as SageMakerClusterSpec).ClusterName === name);
    expect((sent?.body as SageMakerClusterSpec).Tags).toEqual([
      { Key: 'team', Value: 'research' },
      { Key: REQUEST_ID_TAG, Value: 'req-tagged' },
      { Key: DEPLOYMENT_TAG, Value: DEPLOYMENT },
    ]);
    // and the cluster keeps them: what ListTags answers
    const tags = await new SageMakerClient({ region: 'us-east-1' }).send(new ListTagsCommand({ ResourceArn: created.providerId }));
    expect(tags.Tags).toEqual(expect.arrayContaining([{ Key: DEPLOYMENT_TAG, Value: DEPLOYMENT }]));
  });

  it("never lets a request's own tags stand in for the provisioner's", async () => {
    const name = unique('forged');
    const forged = {
      ...spec(name),
      Tags: [
        { Key: DEPLOYMENT_TAG, Value: 'another-deployment' },
        { Key: REQUEST_ID_TAG, Value: 'someone-else' },
      ],
    };
    await provider.create({ location, requestId: 'req-forged', cluster: forged });
    const sent = sim.requests.find((r) => r.operation === 'CreateCluster' && (r.body as SageMakerClusterSpec).ClusterName === name);
    expect((sent?.body as SageMakerClusterSpec).Tags).toEqual([
      { Key: REQUEST_ID_TAG, Value: 'req-forged' },
      { Key: DEPLOYMENT_TAG, Value: DEPLOYMENT },
    ]);
  });

  describe('maps every wire error to the taxonomy', () => {
    const cases: Array<[string, () => Promise<unknown>, string, string]> = [
      [
        'ResourceInUse (a taken name)',
        async () => {
          const name = unique('dup');
          await provider.create({ location, requestId: 'r', cluster: spec(name) });
          return provider.create({ location, requestId: 'r', cluster: spec(name) });
        },
        'ResourceInUseError',
        'ResourceInUse',
      ],
      [
        'ResourceLimitExceeded (the account quota used up)',
        () => {
          sim.setQuota('ml.p4de.24xlarge', 64);
          return provider.create({
            location,
            requestId: 'r',
            cluster: spec(unique('big'), { InstanceType: 'ml.p4de.24xlarge', InstanceCount: 65 }),
          });
        },
        'ResourceLimitExceededError',
        'ResourceLimitExceeded',
      ],
      ['ThrottlingException', () => inject('ThrottlingException'), 'ProviderThrottledError', 'ThrottlingException'],
      ['TooManyRequestsException', () => inject('TooManyRequestsException'), 'ProviderThrottledError', 'TooManyRequestsException'],
      ['RequestLimitExceeded', () => inject('RequestLimitExceeded'), 'ProviderThrottledError', 'RequestLimitExceeded'],
      ['HTTP 500 InternalFailure', () => inject('InternalFailure'), 'ProviderUnavailableError', 'InternalFailure'],
      ['HTTP 503 ServiceUnavailable', () => inject('ServiceUnavailable'), 'ProviderUnavailableError', 'ServiceUnavailable'],
      ['an unnamed HTTP 502', () => inject({ name: 'BadGateway', status: 502 }), 'ProviderUnavailableError', 'BadGateway'],
      ['a dropped connection', () => inject('reset'), 'ProviderUnavailableError', 'ECONNRESET'],
      [
        'ValidationException: cannot assume the execution role',
        () =>
          inject({ name: 'ValidationException', message: 'SageMaker cannot assume the execution role arn:aws:iam::123456789012:role/New' }),
        'ProviderUnavailableError',
        'ValidationException',
      ],
      [
        'ValidationException (a bad body)',
        () => provider.create({ location, requestId: 'r', cluster: spec(unique('bad'), { InstanceType: 'ml.nope.large' }) }),
        'InvalidProviderRequestError',
        'ValidationException',
      ],
      ['ResourceNotFound', () => provider.describe(ref(unique('missing'))), 'ClusterNotFoundError', 'ResourceNotFound'],
      [
        'ConflictException',
        () => {
          sim.injectErrors('DeleteCluster', ['ConflictException']);
          return provider.delete(ref('busy'));
        },
        'ResourceInUseError',
        'ConflictException',
      ],
      ['AccessDeniedException', () => inject('AccessDeniedException'), 'ProviderAuthFailedError', 'AccessDeniedException'],
      ['ExpiredTokenException', () => inject('ExpiredTokenException'), 'ProviderAuthFailedError', 'ExpiredTokenException'],
      ['InvalidSignatureException', () => inject('InvalidSignatureException'), 'ProviderAuthFailedError', 'InvalidSignatureException'],
      [
        'UnrecognizedClientException (a rejected access key)',
        () => {
          const client = new SageMakerClient({
            region: 'us-east-1',
            maxAttempts: 1,
            credentials: { accessKeyId: 'AKIDREJECTED', secretAccessKey: 'x' },
          });
          return createHyperPodProvider({ deployment: DEPLOYMENT, clientFor: () => client }).describe(ref('any'));
        },
        'ProviderAuthFailedError',
        'UnrecognizedClientException',
      ],
      [
        'MissingAuthenticationTokenException (an unsigned request)',
        () => {
          const client = new SageMakerClient({ region: 'us-east-1', maxAttempts: 1, signer: { sign: async (request) => request } });
          return createHyperPodProvider({ deployment: DEPLOYMENT, clientFor: () => client }).describe(ref('any'));
        },
        'ProviderAuthFailedError',
        'MissingAuthenticationTokenException',
      ],
      ['an unknown 4xx', () => inject('SomethingNewException'), 'InvalidProviderRequestError', 'SomethingNewException'],
    ];

    /** A CreateCluster that meets the next injected error. */
    const inject = (error: Parameters<SageMakerSimulator['injectErrors']>[1][number]) => {
      sim.injectErrors('CreateCluster', [error]);
      return provider.create({ location, requestId: 'r', cluster: spec(unique('injected')) });
    };

    it.each(cases)('%s', async (_, act, name, providerCode) => {
      const err = await rejection(act());
      expect(err.name).toBe(name);
      expect(err.providerCode).toBe(providerCode);
      expect(err.cause).toBeInstanceOf(Error);
    });

    it('a call that hangs times out as ProviderUnavailableError', async () => {
      const impatient = createHyperPodProvider({ deployment: DEPLOYMENT, maxAttempts: 1, requestTimeoutMs: 100 });
      sim.injectErrors('DescribeCluster', ['hang']);
      const err = await rejection(impatient.describe(ref('slow')));
      expect(err.name).toBe('ProviderUnavailableError');
      expect(err.providerCode).toBe('ETIMEDOUT');
    });

    it('a refused connection (nothing listening) is ProviderUnavailableError', async () => {
      const closed = await startSageMakerSimulator();
      await closed.close();
      const client = new SageMakerClient({ region: 'us-east-1', maxAttempts: 1, endpoint: closed.endpoint });
      const err = await rejection(createHyperPodProvider({ deployment: DEPLOYMENT, clientFor: () => client }).describe(ref('any')));
      expect(err.name).toBe('ProviderUnavailableError');
      expect(err.providerCode).toBe('ECONNREFUSED');
    });

    /** An SDK-shaped error: a service answer (`status`) or a failure without one. */
    const sdkError = (
      name: string,
      extra: { status?: number; code?: string; cause?: unknown; $retryable?: { throttling?: boolean } } = {},
    ) =>
      Object.assign(new Error(`${name} happened`), {
        name,
        ...(extra.status !== undefined ? { $metadata: { httpStatusCode: extra.status } } : {}),
        ...(extra.code ? { code: extra.code } : {}),
        ...(extra.cause ? { cause: extra.cause } : {}),
        ...(extra.$retryable ? { $retryable: extra.$retryable } : {}),
      });

    it.each([
      ['an unnamed HTTP 429', sdkError('Error', { status: 429 }), 'ProviderThrottledError'],
      ['SlowDown (in the SDK throttling list)', sdkError('SlowDown', { status: 503 }), 'ProviderThrottledError'],
      ['a throttling retry trait', sdkError('OddException', { status: 400, $retryable: { throttling: true } }), 'ProviderThrottledError'],
      ['HTTP 501 (a server error the SDK does not retry)', sdkError('NotImplemented', { status: 501 }), 'ProviderUnavailableError'],
      ['HTTP 504', sdkError('GatewayTimeout', { status: 504 }), 'ProviderUnavailableError'],
      ['a RequestTimeoutException', sdkError('RequestTimeoutException', { status: 408 }), 'ProviderUnavailableError'],
      [
        'a connection code on the cause',
        sdkError('Error', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }),
        'ProviderUnavailableError',
      ],
      ['EHOSTUNREACH', sdkError('Error', { code: 'EHOSTUNREACH' }), 'ProviderUnavailableError'],
      ['an AbortError', sdkError('AbortError'), 'ProviderUnavailableError'],
      [
        'a ResourceLimitExceeded answered as 400 (before throttling)',
        sdkError('ResourceLimitExceeded', { status: 400 }),
        'ResourceLimitExceededError',
      ],
      [
        'InvalidSignatureException "Signature expired" (auth before transient)',
        Object.assign(sdkError('InvalidSignatureException', { status: 400 }), {
          message: 'Signature expired: 20261123T100000Z is now earlier than 20261123T100500Z',
        }),
        'ProviderAuthFailedError',
      ],
      ['an unknown HTTP 400', sdkError('SomethingNewException', { status: 400 }), 'InvalidProviderRequestError'],
      ['a thrown string', 'boom' as unknown, 'InvalidProviderRequestError'],
    ])('classifies %s by the SDK rules, in the table order', (_, err, name) => {
      expect(toHyperPodError(err, 'CreateCluster').name).toBe(name);
    });

    it('keeps the reason beside every row of one table', () => {
      expect(HYPERPOD_ERROR_TABLE.length).toBeGreaterThan(5);
      for (const row of HYPERPOD_ERROR_TABLE) expect(row.reason.length).toBeGreaterThan(10);
    });
  });

  describe('SDK-level retries (default attempts)', () => {
    it('recovers from a single transient 5xx by itself', async () => {
      const retrying = createHyperPodProvider({ deployment: DEPLOYMENT });
      sim.injectErrors('CreateCluster', ['InternalFailure']);
      const name = unique('retried');
      await expect(retrying.create({ location, requestId: 'r', cluster: spec(name) })).resolves.toMatchObject({ clusterName: name });
      const attempts = sim.requests.filter((r) => r.operation === 'CreateCluster' && (r.body as SageMakerClusterSpec).ClusterName === name);
      expect(attempts.map((a) => a.status)).toEqual([500, 200]);
    });

    it('gives up after 3 attempts and throws ProviderUnavailableError', async () => {
      const retrying = createHyperPodProvider({ deployment: DEPLOYMENT });
      sim.injectErrors('CreateCluster', ['ServiceUnavailable', 'ServiceUnavailable', 'ServiceUnavailable']);
      const name = unique('exhausted');
      expect((await rejection(retrying.create({ location, requestId: 'r', cluster: spec(name) }))).name).toBe('ProviderUnavailableError');
      expect(
        sim.requests.filter((r) => r.operation === 'CreateCluster' && (r.body as SageMakerClusterSpec).ClusterName === name),
      ).toHaveLength(3);
    });

    it('never retries ResourceLimitExceeded itself', async () => {
      const retrying = createHyperPodProvider({ deployment: DEPLOYMENT });
      sim.injectErrors('CreateCluster', ['ResourceLimitExceeded']);
      const name = unique('limited');
      expect((await rejection(retrying.create({ location, requestId: 'r', cluster: spec(name) }))).name).toBe('ResourceLimitExceededError');
      expect(sim.requests.filter((r) => (r.body as SageMakerClusterSpec | undefined)?.ClusterName === name)).toHaveLength(1);
    });
  });

  describe('the READY rule', () => {
    it('InService with CurrentCount < TargetCount is CREATING; all groups at target is READY', async () => {
      const lagging = await startSageMakerSimulator({ readyAfterMs: 20, nodesLagMs: 300 });
      const client = new SageMakerClient({ region: 'us-east-1', maxAttempts: 1, endpoint: lagging.endpoint });
      const p = createHyperPodProvider({ deployment: DEPLOYMENT, clientFor: () => client });
      try {
        await p.create({ location, requestId: 'r', cluster: spec('lagging', { InstanceCount: 4 }) });
        await new Promise((resolve) => setTimeout(resolve, 60));
        const during = await p.describe(ref('lagging'));
        expect(during).toMatchObject({ state: 'CREATING', providerStatus: 'InService' });
        expect(during.nodes.current).toBeLessThan(4);
        expect(await until(p, ref('lagging'), 'READY')).toMatchObject({
          state: 'READY',
          providerStatus: 'InService',
          nodes: { current: 4, target: 4 },
        });
      } finally {
        await lagging.close();
      }
    });

    it.each(['Failed', 'RollingBack'] as const)('%s is FAILED with the FailureMessage', async (status) => {
      const name = unique(`fail-${status.toLowerCase()}`);
      await provider.create({ location, requestId: 'r', cluster: spec(name) });
      sim.failCluster(name, 'Lifecycle script on_create.sh exited with 1', status);
      expect(await provider.describe(ref(name))).toMatchObject({
        state: 'FAILED',
        providerStatus: status,
        message: 'Lifecycle script on_create.sh exited with 1',
      });
    });

    it.each([
      ['Creating', 'CREATING'],
      ['Updating', 'CREATING'],
      ['SystemUpdating', 'CREATING'],
      ['Deleting', 'DELETING'],
      ['SomethingNew', 'CREATING'],
    ] as const)('%s is %s', (status, state) => {
      const described = describeHyperPodCluster({
        ClusterArn: 'arn',
        ClusterName: 'c',
        ClusterStatus: status as never,
        InstanceGroups: [
          { CurrentCount: 1, TargetCount: 2 },
          { CurrentCount: 3, TargetCount: 3 },
        ],
      });
      expect(described).toMatchObject({ state, providerStatus: status, nodes: { current: 4, target: 5 } });
    });
  });

  it('create -> CREATING -> READY -> delete -> DELETING -> gone (ClusterNotFoundError)', async () => {
    const name = unique('life');
    const created = await provider.create({ location, requestId: 'req-life', cluster: spec(name) });
    const target = ref(name, created.providerId);
    expect(await provider.describe(target)).toMatchObject({
      state: 'CREATING',
      providerStatus: 'Creating',
      providerId: created.providerId,
      clusterName: name,
    });
    expect(await until(provider, target, 'READY')).toMatchObject({ state: 'READY', nodes: { current: 2, target: 2 } });
    await provider.delete(target);
    expect(await provider.describe(target)).toMatchObject({ state: 'DELETING', providerStatus: 'Deleting' });
    expect(await untilGone(provider, target)).toBe('ClusterNotFoundError');
    expect((await rejection(provider.delete(target))).name).toBe('ClusterNotFoundError');
  });

  it('a create refused with ResourceLimitExceeded succeeds once a delete frees the quota', async () => {
    sim.setQuota('ml.trn1.32xlarge', 4);
    const first = unique('cap');
    const second = unique('cap');
    const created = await provider.create({
      location,
      requestId: 'a',
      cluster: spec(first, { InstanceType: 'ml.trn1.32xlarge', InstanceCount: 4 }),
    });
    const refused = await rejection(
      provider.create({ location, requestId: 'b', cluster: spec(second, { InstanceType: 'ml.trn1.32xlarge', InstanceCount: 2 }) }),
    );
    expect(refused.name).toBe('ResourceLimitExceededError');
    await provider.delete(ref(first, created.providerId));
    const firstRef = ref(first, created.providerId);
    expect(await untilGone(provider, firstRef)).toBe('ClusterNotFoundError');
    await expect(
      provider.create({ location, requestId: 'b', cluster: spec(second, { InstanceType: 'ml.trn1.32xlarge', InstanceCount: 2 }) }),
    ).resolves.toMatchObject({
      clusterName: second,
    });
  });

  describe('findByName', () => {
    it('returns the ARN, creation time and the owner from the request-id tag', async () => {
      const name = unique('owned');
      const created = await provider.create({ location, requestId: 'req-owner', cluster: spec(name) });
      const found = await provider.findByName(location, name);
      expect(found).toEqual({
        providerId: created.providerId,
        clusterName: name,
        ownerRequestId: 'req-owner',
        createdAt: expect.any(String),
      });
      expect(Math.abs(Date.parse(found!.createdAt!) - Date.now())).toBeLessThan(5_000);
    });

    it('has no ownerRequestId for a cluster made without the tag', async () => {
      const name = unique('foreign');
      const client = new SageMakerClient({ region: 'us-east-1' });
      await client.send(new CreateClusterCommand({ ...spec(name), Tags: undefined } as never));
      const found = await provider.findByName(location, name);
      expect(found).toMatchObject({ clusterName: name });
      expect(found).not.toHaveProperty('ownerRequestId');
    });

    it("has no ownerRequestId for a cluster another deployment tagged, even with this request's id", async () => {
      const name = unique('other-deployment');
      const other = createHyperPodProvider({ deployment: 'gpu-cluster-provisioner-other' });
      await other.create({ location, requestId: 'req-shared-id', cluster: spec(name) });
      const found = await provider.findByName(location, name);
      expect(found).toMatchObject({ clusterName: name });
      expect(found).not.toHaveProperty('ownerRequestId');
    });

    it('is undefined when no cluster has the name', async () => {
      expect(await provider.findByName(location, unique('nobody'))).toBeUndefined();
    });
  });

  describe('listOwned', () => {
    it("lists exactly the region's clusters tagged with this deployment, with the request they name", async () => {
      // Prepare: three of ours, an untagged one, one of another deployment, one of ours in another region
      const region = 'eu-west-1';
      const here = { provider: 'sagemaker' as const, region };
      const client = new SageMakerClient({ region });
      const ours: string[] = [];
      for (let i = 0; i < 3; i++) {
        const name = unique('swept');
        ours.push((await provider.create({ location: here, requestId: `req-owned-${i}`, cluster: spec(name) })).providerId);
      }
      await client.send(new CreateClusterCommand({ ...spec(unique('untagged')), Tags: undefined } as never));
      await createHyperPodProvider({ deployment: 'gpu-cluster-provisioner-other' }).create({
        location: here,
        requestId: 'req-other',
        cluster: spec(unique('theirs')),
      });
      await provider.create({
        location: { provider: 'sagemaker', region: 'ap-south-1' },
        requestId: 'req-far',
        cluster: spec(unique('far')),
      });

      // Act
      const owned = await provider.listOwned(here);

      // Assess
      expect(owned.map((c) => c.providerId).sort()).toEqual([...ours].sort());
      expect(owned.find((c) => c.providerId === ours[0])).toEqual({
        location: here,
        providerId: ours[0],
        clusterName: expect.stringMatching(/^swept-/),
        requestId: 'req-owned-0',
        createdAt: expect.any(String),
        providerStatus: expect.stringMatching(/^(Creating|InService)$/), // the simulator's clock runs on
        deleting: false,
      });
      expect(sim.requests.filter((r) => r.operation === 'ListClusters' && r.region === region).at(-1)?.body).toMatchObject({
        MaxResults: 100,
      });
    });

    it('says which clusters are being deleted already', async () => {
      // A simulator of its own whose deletions take a minute, so the cluster is still Deleting when listed
      const slow = await startSageMakerSimulator({ deleteAfterMs: 60_000 });
      process.env.AWS_ENDPOINT_URL_SAGEMAKER = slow.endpoint;
      try {
        const p = createHyperPodProvider({ deployment: DEPLOYMENT, maxAttempts: 1 });
        const created = await p.create({ location, requestId: 'req-gone', cluster: spec(unique('deleting')) });
        await p.delete({ location, clusterName: 'x', providerId: created.providerId });
        expect(await p.listOwned(location)).toEqual([expect.objectContaining({ providerStatus: 'Deleting', deleting: true })]);
      } finally {
        process.env.AWS_ENDPOINT_URL_SAGEMAKER = sim.endpoint;
        await slow.close();
      }
    });
  });
});
