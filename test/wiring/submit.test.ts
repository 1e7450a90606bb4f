/**
 * The submit path's wiring (functions/wiring/submit.ts) reads the deployment's allow-lists from ALLOWED_* when a
 * request is first checked: httpDelete shares the dependencies and has no such variables.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('submitDeps', () => {
  it('builds without the allow-lists, and names the missing variable when a request is checked', async () => {
    // Prepare
    vi.stubEnv('CLUSTERS_TABLE', 'clusters');
    const { submitDeps } = await import('../../functions/wiring/submit');

    // Act
    const deps = submitDeps();

    // Assess
    expect(deps.defaultRegion).toBe(process.env.AWS_REGION);
    expect(() => deps.policy).toThrow(/Environment variable ALLOWED_REGIONS is required/);
  });

  it('reads the three comma lists, trimmed', async () => {
    vi.stubEnv('CLUSTERS_TABLE', 'clusters');
    vi.stubEnv('ALLOWED_REGIONS', 'us-east-1, eu-west-1');
    vi.stubEnv('ALLOWED_EXECUTION_ROLES', 'arn:aws:iam::123456789012:role/HyperPodExecution*');
    vi.stubEnv('ALLOWED_LIFECYCLE_BUCKETS', 'sagemaker-*,team-lifecycle,');
    vi.stubEnv('NOTIFY_SNS_TOPICS', 'arn:aws:sns:us-east-1:123456789012:provisioner-notify-*, ');
    const { submitDeps } = await import('../../functions/wiring/submit');

    expect(submitDeps().policy).toEqual({
      allowedRegions: ['us-east-1', 'eu-west-1'],
      allowedExecutionRoles: ['arn:aws:iam::123456789012:role/HyperPodExecution*'],
      allowedLifecycleBuckets: ['sagemaker-*', 'team-lifecycle'],
      // Unset: no EKS cluster, subnet, security group, cluster role or TIR project; any TIR location and SKU.
      allowedEksClusters: [],
      allowedSubnets: [],
      allowedSecurityGroups: [],
      allowedClusterRoles: [],
      allowedTirProjects: [],
      allowedTirLocations: ['*'],
      allowedTirSkus: ['*'],
      // NOTIFY_SECRET_PREFIX unset: the default; NOTIFY_ALLOW_LOOPBACK unset: never loopback.
      notify: {
        secretPrefix: 'provisioner/notify/',
        snsTopics: ['arn:aws:sns:us-east-1:123456789012:provisioner-notify-*'],
        allowLoopback: false,
      },
    });
  });

  it('refuses a list that is empty once trimmed', async () => {
    vi.stubEnv('CLUSTERS_TABLE', 'clusters');
    vi.stubEnv('ALLOWED_REGIONS', ' , ');
    const { deploymentPolicy } = await import('../../functions/wiring/submit');

    expect(() => deploymentPolicy()).toThrow(/ALLOWED_REGIONS must list at least one value/);
  });
});
