/**
 * The submit path with the deployment's allow-lists (SubmitDeps.policy, functions/core/policy.ts): a request naming a
 * role, bucket or region the deployment does not allow is a RequestValidationError at the field, and nothing is
 * recorded, started or scheduled.
 */
import { describe, expect, it } from 'vitest';
import { RequestValidationError } from '../../../functions/core/errors';
import type { DeploymentPolicy } from '../../../functions/core/policy';
import { submitRequest } from '../../../functions/core/submit';
import { p5Group, sagemakerRequest, tirRequest, world } from '../../fakes/world';

const POLICY: DeploymentPolicy = {
  allowedRegions: ['us-east-1'],
  allowedExecutionRoles: ['arn:aws:iam::123456789012:role/HyperPodExecution*'],
  allowedLifecycleBuckets: ['unit-lifecycle'],
};

const refusal = async (promise: Promise<unknown>): Promise<RequestValidationError> => {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(RequestValidationError);
  return error as RequestValidationError;
};

describe('submitRequest with the deployment policy', () => {
  it('accepts a request inside the allow-lists', async () => {
    const w = world();

    const { created, record } = await submitRequest({ ...w.submit, policy: POLICY }, sagemakerRequest());

    expect(created).toBe(true);
    expect(record.status).toBe('ACCEPTED');
  });

  it.each([
    [
      'an execution role',
      { cluster: { ClusterName: 'c', InstanceGroups: [p5Group({ ExecutionRole: 'arn:aws:iam::123456789012:role/Admin' })] } },
      '/cluster/InstanceGroups/0/ExecutionRole',
    ],
    [
      'a lifecycle bucket',
      {
        cluster: {
          ClusterName: 'c',
          InstanceGroups: [p5Group({ LifeCycleConfig: { SourceS3Uri: 's3://elsewhere/x/', OnCreate: 'a.sh' } })],
        },
      },
      '/cluster/InstanceGroups/0/LifeCycleConfig/SourceS3Uri',
    ],
    ['a region', { region: 'eu-west-1' }, '/region'],
  ])('refuses %s outside the lists at its pointer, before anything is recorded, started or scheduled', async (_what, overrides, path) => {
    // Prepare
    const w = world();

    // Act
    const error = await refusal(submitRequest({ ...w.submit, policy: POLICY }, sagemakerRequest(overrides)));

    // Assess
    expect(error.errors.map((e) => e.path)).toEqual([path]);
    expect(await w.store.get('unit-sm-001')).toBeUndefined();
    expect(w.starter.calls).toEqual([]);
  });

  it('refuses a replay of a request recorded before the lists were narrowed', async () => {
    const w = world();
    const request = sagemakerRequest({ region: 'eu-west-1' });
    await submitRequest(w.submit, request);
    const starts = w.starter.calls.length;

    const error = await refusal(submitRequest({ ...w.submit, policy: POLICY }, request));

    expect(error.errors.map((e) => e.path)).toEqual(['/region']);
    expect(w.starter.calls).toHaveLength(starts);
  });

  it('checks nothing beyond the contract without a policy, and a TIR request against its own lists only', async () => {
    const w = world();
    await expect(submitRequest(w.submit, sagemakerRequest({ region: 'ap-south-1' }))).resolves.toMatchObject({ created: true });
    const tirOnly: DeploymentPolicy = {
      allowedRegions: [],
      allowedExecutionRoles: [],
      allowedLifecycleBuckets: [],
      allowedTirProjects: ['12345'],
      allowedTirLocations: ['*'],
      allowedTirSkus: ['*'],
    };
    await expect(submitRequest({ ...w.submit, policy: tirOnly }, tirRequest())).resolves.toMatchObject({ created: true });
    const before = w.store.writes.length;
    await expect(submitRequest({ ...w.submit, policy: { ...tirOnly, allowedTirProjects: [] } }, tirRequest())).rejects.toMatchObject({
      errors: [expect.objectContaining({ path: '/projectId' })],
    });
    expect(w.store.writes.length).toBe(before);
  });
});
