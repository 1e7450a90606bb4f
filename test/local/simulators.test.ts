import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSageMakerSimulator, type SageMakerSimulator } from '../../local/simulators/sagemaker';
import { startTirSimulator, type TirSimulator } from '../../local/simulators/tir';
import { hyperpodGroup, tirCluster } from '../fixtures/clusters';

const SIGNED = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=abc';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const group = (overrides: Record<string, unknown> = {}) => hyperpodGroup(overrides);

describe('SageMaker simulator', () => {
  let sim: SageMakerSimulator;

  /** A raw AWS JSON 1.1 call, as the SDK would send it. */
  const call = async (operation: string, body: unknown, headers: Record<string, string> = { authorization: SIGNED }) => {
    const response = await fetch(`${sim.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `SageMaker.${operation}`, ...headers },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      errorType: response.headers.get('x-amzn-errortype'),
      body: (await response.json()) as Record<string, any>,
    };
  };

  beforeAll(async () => {
    sim = await startSageMakerSimulator({ readyAfterMs: 80, deleteAfterMs: 80, rejectAccessKeys: ['AKIDREJECTED'] });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.clearFaults());

  it('answers 403 MissingAuthenticationTokenException without a SigV4 Authorization header', async () => {
    const answer = await call('ListClusters', {}, {});
    expect(answer.status).toBe(403);
    expect(answer.body.__type).toBe('MissingAuthenticationTokenException');
    expect(answer.errorType).toBe('MissingAuthenticationTokenException');
  });

  it('answers 403 UnrecognizedClientException for a rejected access key', async () => {
    const answer = await call('ListClusters', {}, { authorization: SIGNED.replace('AKIDEXAMPLE', 'AKIDREJECTED') });
    expect(answer.status).toBe(403);
    expect(answer.body.__type).toBe('UnrecognizedClientException');
  });

  it('answers 400 UnknownOperationException for an operation it does not know', async () => {
    const answer = await call('CreateNotebookInstance', {});
    expect(answer).toMatchObject({ status: 400, body: { __type: 'UnknownOperationException' } });
  });

  it('answers ValidationException listing every violation of a bad CreateCluster body', async () => {
    const answer = await call('CreateCluster', {
      ClusterName: 'bad_name',
      InstanceGroups: [group({ InstanceType: 'ml.nope.large', InstanceCount: 0, ExecutionRole: 'role' })],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.__type).toBe('ValidationException');
    expect(answer.body.Message).toMatch(/^5 validation errors detected/); // the role breaks both its length and its pattern;
    expect(answer.body.Message).toContain("at 'clusterName'");
    expect(answer.body.Message).toContain("at 'instanceGroups.1.member.instanceType'");
    expect(answer.body.Message).toContain("at 'instanceGroups.1.member.instanceCount'");
    expect(answer.body.Message).toContain("at 'instanceGroups.1.member.executionRole'");
  });

  it('answers ValidationException for a missing ClusterName or InstanceGroups', async () => {
    const answer = await call('CreateCluster', {});
    expect(answer.body).toMatchObject({ __type: 'ValidationException' });
    expect(answer.body.Message).toContain("Value null at 'clusterName' failed to satisfy constraint: Member must not be null");
    expect(answer.body.Message).toContain("Value null at 'instanceGroups'");
  });

  it('creates with an ARN of the documented pattern and CreationTime as epoch seconds', async () => {
    const created = await call('CreateCluster', { ClusterName: 'sim-arn', InstanceGroups: [group()] });
    expect(created.status).toBe(200);
    expect(created.body.ClusterArn).toMatch(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:cluster\/[a-z0-9]{12}$/);
    const described = await call('DescribeCluster', { ClusterName: created.body.ClusterArn });
    expect(described.body).toMatchObject({ ClusterName: 'sim-arn', ClusterStatus: 'Creating' });
    expect(typeof described.body.CreationTime).toBe('number');
    expect(Math.abs(described.body.CreationTime * 1000 - Date.now())).toBeLessThan(5_000);
    expect(described.body.InstanceGroups[0]).toMatchObject({
      InstanceGroupName: 'workers',
      CurrentCount: 0,
      TargetCount: 2,
      Status: 'Creating',
    });
  });

  it('answers ResourceInUse for a taken name, including a cluster still deleting', async () => {
    await call('CreateCluster', { ClusterName: 'sim-taken', InstanceGroups: [group()] });
    expect((await call('CreateCluster', { ClusterName: 'sim-taken', InstanceGroups: [group()] })).body.__type).toBe('ResourceInUse');
    await call('DeleteCluster', { ClusterName: 'sim-taken' });
    expect((await call('DescribeCluster', { ClusterName: 'sim-taken' })).body.ClusterStatus).toBe('Deleting');
    expect((await call('CreateCluster', { ClusterName: 'sim-taken', InstanceGroups: [group()] })).body.__type).toBe('ResourceInUse');
    await sleep(100);
    expect((await call('DescribeCluster', { ClusterName: 'sim-taken' })).body.__type).toBe('ResourceNotFound');
    expect((await call('CreateCluster', { ClusterName: 'sim-taken', InstanceGroups: [group()] })).status).toBe(200);
  });

  it('answers ResourceLimitExceeded when the account quota of an instance type is used up, and accepts again once a delete completes', async () => {
    sim.setQuota('ml.g5.48xlarge', 3);
    const big = { InstanceGroups: [group({ InstanceType: 'ml.g5.48xlarge', InstanceCount: 2 })] };
    expect((await call('CreateCluster', { ClusterName: 'sim-quota-a', ...big })).status).toBe(200);
    const refused = await call('CreateCluster', { ClusterName: 'sim-quota-b', ...big });
    expect(refused.body.__type).toBe('ResourceLimitExceeded');
    expect(refused.body.Message).toContain(
      "'ml.g5.48xlarge for cluster usage' is 3 Instances, with current utilization of 2 Instances and a request delta of 2 Instances",
    );
    expect(sim.quotaUsage('ml.g5.48xlarge')).toBe(2);
    await call('DeleteCluster', { ClusterName: 'sim-quota-a' });
    expect(sim.quotaUsage('ml.g5.48xlarge')).toBe(0); // deleting before it came up: it holds nothing
    expect((await call('CreateCluster', { ClusterName: 'sim-quota-b', ...big })).status).toBe(200);
  });

  it('takes capacity when the cluster comes up, not at create, and frees it once a delete completes', async () => {
    sim.setCapacity('ml.g5.24xlarge', 3);
    const big = { InstanceGroups: [group({ InstanceType: 'ml.g5.24xlarge', InstanceCount: 2 })] };
    expect((await call('CreateCluster', { ClusterName: 'sim-cap-a', ...big })).status).toBe(200);
    expect(sim.available('ml.g5.24xlarge')).toBe(3);
    await sleep(100);
    expect((await call('DescribeCluster', { ClusterName: 'sim-cap-a' })).body.ClusterStatus).toBe('InService');
    expect(sim.available('ml.g5.24xlarge')).toBe(1);
    await call('DeleteCluster', { ClusterName: 'sim-cap-a' });
    expect(sim.available('ml.g5.24xlarge')).toBe(1); // still deleting: the nodes are not back yet
    await sleep(100);
    expect(sim.available('ml.g5.24xlarge')).toBe(3);
  });

  it('answers ResourceNotFound for DeleteCluster of an unknown cluster', async () => {
    expect((await call('DeleteCluster', { ClusterName: 'sim-never' })).body.__type).toBe('ResourceNotFound');
  });

  it('moves Creating -> InService after readyAfterMs with every group at its target', async () => {
    await call('CreateCluster', {
      ClusterName: 'sim-ready',
      InstanceGroups: [group(), group({ InstanceGroupName: 'head', InstanceCount: 1 })],
    });
    await sleep(100);
    const described = await call('DescribeCluster', { ClusterName: 'sim-ready' });
    expect(described.body.ClusterStatus).toBe('InService');
    expect(described.body.InstanceGroups.map((g: any) => [g.CurrentCount, g.TargetCount, g.Status])).toEqual([
      [2, 2, 'InService'],
      [1, 1, 'InService'],
    ]);
  });

  it('reports Failed / RollingBack with the FailureMessage when told to fail a cluster', async () => {
    await call('CreateCluster', { ClusterName: 'sim-fail', InstanceGroups: [group()] });
    sim.failCluster('sim-fail', 'Lifecycle script failed on 1 node');
    expect((await call('DescribeCluster', { ClusterName: 'sim-fail' })).body).toMatchObject({
      ClusterStatus: 'Failed',
      FailureMessage: 'Lifecycle script failed on 1 node',
    });
    sim.failCluster('sim-fail', 'Rolling back', 'RollingBack');
    expect((await call('DescribeCluster', { ClusterName: 'sim-fail' })).body.ClusterStatus).toBe('RollingBack');
  });

  it('lists clusters filtered by NameContains, page by page', async () => {
    for (const name of ['list-a', 'list-b', 'list-c'])
      await call('CreateCluster', { ClusterName: name, InstanceGroups: [group({ InstanceType: 'ml.t3.medium' })] });
    const first = await call('ListClusters', { NameContains: 'list-', MaxResults: 2, SortBy: 'NAME', SortOrder: 'Ascending' });
    expect(first.body.ClusterSummaries.map((c: any) => c.ClusterName)).toEqual(['list-a', 'list-b']);
    expect(first.body.NextToken).toEqual(expect.any(String));
    const second = await call('ListClusters', {
      NameContains: 'list-',
      MaxResults: 2,
      SortBy: 'NAME',
      SortOrder: 'Ascending',
      NextToken: first.body.NextToken,
    });
    expect(second.body.ClusterSummaries.map((c: any) => c.ClusterName)).toEqual(['list-c']);
    expect(second.body.NextToken).toBeUndefined();
    expect((await call('ListClusters', { NextToken: 'garbage!' })).body.__type).toBe('ValidationException');
  });

  it('lists the tags given at create', async () => {
    const tags = [
      { Key: 'team', Value: 'research' },
      { Key: 'provisioner:request-id', Value: 'req-1' },
    ];
    const created = await call('CreateCluster', { ClusterName: 'sim-tags', InstanceGroups: [group()], Tags: tags });
    expect((await call('ListTags', { ResourceArn: created.body.ClusterArn })).body.Tags).toEqual(tags);
  });

  it('answers the injected errors in order, then serves normally', async () => {
    sim.injectErrors('CreateCluster', ['ResourceLimitExceeded', 'ResourceLimitExceeded', { name: 'ServiceUnavailable' }]);
    const body = { ClusterName: 'sim-queue', InstanceGroups: [group()] };
    const answers = [];
    for (let i = 0; i < 4; i += 1) answers.push(await call('CreateCluster', body));
    expect(answers.map((a) => [a.status, a.body.__type ?? 'ok'])).toEqual([
      [400, 'ResourceLimitExceeded'],
      [400, 'ResourceLimitExceeded'],
      [503, 'ServiceUnavailable'],
      [200, 'ok'],
    ]);
  });

  it('answers throttling, 5xx and latency by fault rates', async () => {
    sim.setFaults({ throttleRate: 1 });
    expect((await call('ListClusters', {})).body.__type).toBe('ThrottlingException');
    sim.setFaults({ errorRate: 1 });
    const failed = await call('ListClusters', {});
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(['InternalFailure', 'ServiceUnavailable']).toContain(failed.body.__type);
    sim.setFaults({ latencyMs: 120 });
    const started = Date.now();
    expect((await call('ListClusters', {})).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('logs every request with its operation and body, never the Authorization header', async () => {
    const before = sim.requests.length;
    await call('DescribeCluster', { ClusterName: 'sim-log' });
    const entry = sim.requests[before];
    expect(entry).toMatchObject({ operation: 'DescribeCluster', method: 'POST', path: '/', body: { ClusterName: 'sim-log' }, status: 400 });
    expect(Date.parse(entry!.at)).not.toBeNaN();
    expect(JSON.stringify(sim.requests)).not.toContain('AWS4-HMAC-SHA256');
  });
});

describe('SageMaker simulator, continuous provisioning', () => {
  it('reports InService while CurrentCount < TargetCount for nodesLagMs', async () => {
    const sim = await startSageMakerSimulator({ readyAfterMs: 30, nodesLagMs: 200 });
    try {
      const headers = { 'content-type': 'application/x-amz-json-1.1', authorization: SIGNED };
      const send = (op: string, body: unknown) =>
        fetch(sim.endpoint, {
          method: 'POST',
          headers: { ...headers, 'x-amz-target': `SageMaker.${op}` },
          body: JSON.stringify(body),
        }).then((r) => r.json() as Promise<Record<string, any>>);
      await send('CreateCluster', { ClusterName: 'lagging', InstanceGroups: [group({ InstanceCount: 4 })] });
      await sleep(60);
      const during = await send('DescribeCluster', { ClusterName: 'lagging' });
      expect(during.ClusterStatus).toBe('InService');
      expect(during.InstanceGroups[0].CurrentCount).toBeLessThan(4);
      await sleep(220);
      expect((await send('DescribeCluster', { ClusterName: 'lagging' })).InstanceGroups[0].CurrentCount).toBe(4);
    } finally {
      await sim.close();
    }
  });
});

describe('TIR simulator', () => {
  let sim: TirSimulator;
  const query = (extra = '') => `project_id=42&location=Delhi${extra}`;
  const body = (overrides: Record<string, unknown> = {}) => tirCluster('tir-sim', overrides);

  const call = async (
    method: string,
    path: string,
    options: { q?: string; body?: unknown; apikey?: string | null; token?: string | null } = {},
  ) => {
    const apikey = options.apikey === undefined ? sim.apiKey : options.apikey;
    const token = options.token === undefined ? sim.authToken : options.token;
    const url = `${sim.baseUrl}${path}?${options.q ?? query()}${apikey === null ? '' : `&apikey=${apikey}`}`;
    const response = await fetch(url, {
      method,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), 'content-type': 'application/json' },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    let json: Record<string, any> | undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, json, text };
  };
  const CLUSTERS = '/distributed_jobs_v2/cluster/';

  beforeAll(async () => {
    sim = await startTirSimulator({ readyAfterMs: 80, deleteAfterMs: 80, apiKey: 'key-123456', authToken: 'token-abcdef' });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.clearFaults());

  it('serves under /myaccount/api/v1/gpu', () => {
    expect(sim.baseUrl).toBe(`${sim.endpoint}/myaccount/api/v1/gpu`);
  });

  it.each([
    ['no apikey', { apikey: null }],
    ['no bearer token', { token: null }],
    ['a wrong apikey', { apikey: 'nope' }],
    ['a wrong token', { token: 'nope' }],
  ])('answers 401 "Unauthorized access." with %s', async (_, credentials) => {
    const answer = await call('GET', CLUSTERS, credentials);
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ code: 401, message: 'Unauthorized access.' });
  });

  it('answers 400 "Bad Request" with field errors for an invalid body', async () => {
    const answer = await call('POST', CLUSTERS, {
      body: body({ ssh_key_ids: [], no_of_nodes: 0, image_version_id: 'seven', name: undefined }),
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({
      code: 400,
      message: 'Bad Request',
      errors: {
        name: ['This field is required.'],
        ssh_key_ids: ['This list may not be empty.'],
        no_of_nodes: ['Ensure this value is greater than or equal to 1.'],
        image_version_id: ['A valid integer is required.'],
      },
    });
  });

  it('requires lifecycle_script when script_added is true', async () => {
    const answer = await call('POST', CLUSTERS, { body: body({ script_added: true }) });
    expect(answer.json?.errors).toHaveProperty('lifecycle_script');
  });

  it('answers 400 for a missing project_id or an unknown location', async () => {
    const answer = await call('POST', CLUSTERS, { q: 'location=Mumbai', body: body() });
    expect(answer.status).toBe(400);
    expect(answer.json?.errors).toEqual({ project_id: ['This field is required.'], location: ['"Mumbai" is not a valid choice.'] });
  });

  it('creates (201), reports Creating then Running in the shape of the published examples, deletes, then answers 404', async () => {
    const created = await call('POST', CLUSTERS, { body: body({ name: 'tir-life' }) });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      code: 201,
      message: 'Cluster created successfully',
      data: { name: 'tir-life', status: 'Creating', no_of_nodes: 2, worker_nodes: [] },
    });
    expect(Object.keys(created.json!.data).sort()).toEqual(['available_gpu', 'id', 'name', 'no_of_nodes', 'status', 'worker_nodes']);
    const id = created.json!.data.id as number;
    expect(Number.isInteger(id)).toBe(true);
    await sleep(100);
    const running = await call('GET', `${CLUSTERS}${id}/`);
    // As the detail example: Running with an empty worker_nodes, no per-node list, no lifecycle_script
    expect(running.json?.data).toEqual({ id, name: 'tir-life', status: 'Running', no_of_nodes: 2, worker_nodes: [], available_gpu: 0 });
    const deleted = await call('DELETE', `${CLUSTERS}${id}/`);
    expect(deleted.json).toMatchObject({ code: 200, data: 'Cluster deleted successfully' });
    expect((await call('GET', `${CLUSTERS}${id}/`)).json?.data.status).toBe('Deleting');
    await sleep(100);
    expect((await call('GET', `${CLUSTERS}${id}/`)).status).toBe(404);
  });

  it('answers 400 "already exists" for a name taken in the same project and location', async () => {
    await call('POST', CLUSTERS, { body: body({ name: 'tir-taken' }) });
    const again = await call('POST', CLUSTERS, { body: body({ name: 'tir-taken' }) });
    expect(again.status).toBe(400);
    expect(again.json?.message).toBe("Cluster with name 'tir-taken' already exists");
    expect((await call('POST', CLUSTERS, { q: 'project_id=43&location=Delhi', body: body({ name: 'tir-taken' }) })).status).toBe(201);
  });

  it('answers 400 "Insufficient capacity" when the sku is used up, and frees it after a delete', async () => {
    sim.setCapacity(77, 2);
    const first = await call('POST', CLUSTERS, { body: body({ name: 'tir-cap-a', sku_id: 77 }) });
    const refused = await call('POST', CLUSTERS, { body: body({ name: 'tir-cap-b', sku_id: 77 }) });
    expect(refused.status).toBe(400);
    expect(refused.json?.message).toMatch(/^Insufficient capacity/);
    await call('DELETE', `${CLUSTERS}${first.json!.data.id}/`);
    await sleep(100);
    expect(sim.available(77)).toBe(2);
    expect((await call('POST', CLUSTERS, { body: body({ name: 'tir-cap-b', sku_id: 77 }) })).status).toBe(201);
  });

  it('lists the clusters of a project and location', async () => {
    await call('POST', CLUSTERS, { q: 'project_id=50&location=Chennai', body: body({ name: 'tir-list' }) });
    const listed = await call('GET', CLUSTERS, { q: 'project_id=50&location=Chennai' });
    expect(listed.json?.data.map((c: any) => c.name)).toEqual(['tir-list']);
  });

  it('answers an injected error inside an HTTP 200 body', async () => {
    sim.injectErrors('create', ['envelope-400']);
    const answer = await call('POST', CLUSTERS, { body: body({ name: 'tir-envelope' }) });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ code: 400, message: 'Bad Request', errors: { non_field_errors: ['Injected error'] } });
  });

  it('answers 429 for throttling and 500/502/503 for errors', async () => {
    sim.setFaults({ throttleRate: 1 });
    expect((await call('GET', CLUSTERS)).status).toBe(429);
    sim.setFaults({ errorRate: 1 });
    expect([500, 502, 503]).toContain((await call('GET', CLUSTERS)).status);
    sim.clearFaults();
    sim.injectErrors('list', ['502']);
    const gateway = await call('GET', CLUSTERS);
    expect(gateway.status).toBe(502);
    expect(gateway.text).toContain('<html>');
  });

  it('reports a configured unknown status while creating', async () => {
    const odd = await startTirSimulator({ readyAfterMs: 5_000, unknownStatus: 'Provisioning' });
    try {
      const response = await fetch(`${odd.baseUrl}${CLUSTERS}?${query()}&apikey=${odd.apiKey}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${odd.authToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body()),
      });
      expect(((await response.json()) as any).data.status).toBe('Provisioning');
    } finally {
      await odd.close();
    }
  });

  it('runs on an injected clock: Running and gone at its readyAfterMs and deleteAfterMs, the log in its time', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const timed = await startTirSimulator({ readyAfterMs: 600_000, deleteAfterMs: 120_000, clock: () => now });
    const at = (method: string, path: string, payload?: unknown) =>
      fetch(`${timed.baseUrl}${path}?${query()}&apikey=${timed.apiKey}`, {
        method,
        headers: { authorization: `Bearer ${timed.authToken}`, 'content-type': 'application/json' },
        ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, any> }));
    try {
      const created = await at('POST', CLUSTERS, body({ name: 'tir-clock' }));
      const id = created.json.data.id as number;
      expect(timed.requests[0]!.at).toBe('2030-01-01T00:00:00.000Z');
      now += 599_999;
      expect((await at('GET', `${CLUSTERS}${id}/`)).json.data.status).toBe('Creating');
      now += 1;
      expect((await at('GET', `${CLUSTERS}${id}/`)).json.data.status).toBe('Running');
      await at('DELETE', `${CLUSTERS}${id}/`);
      now += 119_999;
      expect((await at('GET', `${CLUSTERS}${id}/`)).json.data.status).toBe('Deleting');
      now += 1;
      expect((await at('GET', `${CLUSTERS}${id}/`)).status).toBe(404);
      expect(timed.requests.at(-1)!.at).toBe('2030-01-01T00:12:00.000Z');
    } finally {
      await timed.close();
    }
  });

  it('logs every request without the apikey and without headers', async () => {
    const before = sim.requests.length;
    await call('GET', CLUSTERS, { q: query('&active_iam=5') });
    expect(sim.requests[before]).toMatchObject({
      operation: 'list',
      method: 'GET',
      path: '/myaccount/api/v1/gpu/distributed_jobs_v2/cluster/?project_id=42&location=Delhi&active_iam=5',
      status: 200,
    });
    const log = JSON.stringify(sim.requests);
    expect(log).not.toContain('key-123456');
    expect(log).not.toContain('token-abcdef');
  });
});
