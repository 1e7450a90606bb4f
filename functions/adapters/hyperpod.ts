/**
 * The SageMaker HyperPod provider: ClusterProvider over @aws-sdk/client-sagemaker.
 *
 * One client per region, made on first use. The endpoint is never set here: the SDK itself honours
 * AWS_ENDPOINT_URL_SAGEMAKER / AWS_ENDPOINT_URL, which is how the tests and the local stack reach the simulator.
 * Every SDK failure leaves this module as one of the classes of ../core/errors, chosen by HYPERPOD_ERROR_TABLE.
 */
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  ListClustersCommand,
  ListTagsCommand,
  SageMakerClient,
  type CreateClusterRequest,
  type DescribeClusterResponse,
  type Tag,
} from '@aws-sdk/client-sagemaker';
import { ClusterNotFoundError, InvalidProviderRequestError, ProviderUnavailableError } from '../core/errors';
import {
  DEPLOYMENT_TAG,
  PROVISIONER_TAGS,
  REQUEST_ID_TAG,
  type ClusterDescription,
  type ClusterLocation,
  type ClusterProvider,
  type ClusterRef,
  type ClusterState,
  type ExistingCluster,
  type GroupDescription,
  type OwnedCluster,
} from '../core/provider';
import type { SageMakerClusterSpec } from '../core/request';
import { logger } from '../platform/observability';
import { toHyperPodError } from './hyperpod-errors';

export * from './hyperpod-errors';
/** What the adapter needs of a SageMaker client (a narrow unit test can pass a fake). */
export type SageMakerLike = Pick<SageMakerClient, 'send'>;

export interface HyperPodProviderOptions {
  /**
   * This deployment's name (`<service>-<stage>`): every cluster it creates carries it as the `provisioner:deployment`
   * tag, and only clusters carrying it are this deployment's (adoption, the sweeper).
   */
  deployment: string;
  /** Builds the client of a region. Default: `new SageMakerClient({ region, maxAttempts })`, endpoint from the environment. */
  clientFor?: (region: string) => SageMakerLike;
  /** The SDK's own attempts for throttling / 5xx / network errors. Default: the SDK's (3). */
  maxAttempts?: number;
  /** Per attempt: a call that hangs fails as TimeoutError (ProviderUnavailableError) instead of holding the Lambda. Default 30 s. */
  requestTimeoutMs?: number;
}

// ---- status normalization ----

/**
 * READY means usable: `InService` and every instance group at its minimum (`MinCount`, from MinInstanceCount) when one
 * is set, else at its target. With `NodeProvisioningMode: Continuous` HyperPod goes on adding the missing instances by
 * itself, so a cluster at its minimum is READY.
 */
export const describeHyperPodCluster = (output: DescribeClusterResponse): ClusterDescription => {
  const status = output.ClusterStatus ?? 'Unknown';
  const groups: GroupDescription[] = (output.InstanceGroups ?? []).map((g) => {
    const types = (g.InstanceTypeDetails ?? [])
      .filter((t) => t.InstanceType !== undefined)
      .map((t) => ({ type: t.InstanceType as string, count: t.CurrentCount ?? 0 }));
    return {
      name: g.InstanceGroupName ?? '',
      current: g.CurrentCount ?? 0,
      target: g.TargetCount ?? 0,
      ...(g.MinCount !== undefined ? { min: g.MinCount } : {}),
      ...(g.Status ? { status: g.Status } : {}),
      ...(types.length > 0
        ? { instanceTypes: types }
        : g.InstanceType
          ? { instanceTypes: [{ type: g.InstanceType, count: g.CurrentCount ?? 0 }] }
          : {}),
    };
  });
  const nodes = {
    current: groups.reduce((sum, g) => sum + g.current, 0),
    target: groups.reduce((sum, g) => sum + g.target, 0),
  };
  const usable = groups.every((g) => g.current >= (g.min ?? g.target));
  let state: ClusterState;
  if (status === 'InService') state = usable ? 'READY' : 'CREATING';
  else if (status === 'Failed' || status === 'RollingBack') state = 'FAILED';
  else if (status === 'Deleting') state = 'DELETING';
  else state = 'CREATING'; // Creating, Updating, SystemUpdating, and any status added later: still in progress
  return {
    providerId: output.ClusterArn ?? '',
    clusterName: output.ClusterName ?? '',
    state,
    providerStatus: status,
    ...(output.FailureMessage ? { message: output.FailureMessage } : {}),
    nodes,
    groups,
  };
};

// ---- the request body ----

type Group = Record<string, unknown> & { AutoPatchConfig?: { PatchSchedule?: { NextPatchDate?: unknown } } };

/**
 * The contract carries timestamps as RFC 3339 strings (JSON has no dates); the SDK serializes only `Date` objects as
 * timestamps. The one timestamp of CreateClusterRequest is a group's AutoPatchConfig.PatchSchedule.NextPatchDate.
 */
export const withSdkTimestamps = <T extends { InstanceGroups?: unknown }>(body: T): T => {
  const groups = body.InstanceGroups;
  if (!Array.isArray(groups)) return body;
  return {
    ...body,
    InstanceGroups: (groups as Group[]).map((g) => {
      const date = g.AutoPatchConfig?.PatchSchedule?.NextPatchDate;
      if (typeof date !== 'string') return g;
      return {
        ...g,
        AutoPatchConfig: { ...g.AutoPatchConfig, PatchSchedule: { ...g.AutoPatchConfig!.PatchSchedule, NextPatchDate: new Date(date) } },
      };
    }),
  };
};

// ---- the provider ----

const regionOf = (location: ClusterLocation): string => {
  if (location.provider !== 'sagemaker') {
    throw new InvalidProviderRequestError(`The HyperPod provider cannot serve a ${location.provider} location`);
  }
  return location.region;
};

export const createHyperPodProvider = (options: HyperPodProviderOptions): ClusterProvider => {
  const clients = new Map<string, SageMakerLike>();
  const clientFor = (region: string): SageMakerLike => {
    let client = clients.get(region);
    if (!client) {
      client =
        options.clientFor?.(region) ??
        new SageMakerClient({
          region,
          requestHandler: { requestTimeout: options.requestTimeoutMs ?? 30_000, throwOnRequestTimeout: true, connectionTimeout: 5_000 },
          ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
        });
      clients.set(region, client);
    }
    return client;
  };

  /** One SDK call, one log line (operation, cluster, status code, duration; never a body), errors translated. */
  const call = async <T extends { $metadata?: { httpStatusCode?: number; attempts?: number } }>(
    operation: string,
    clusterName: string,
    region: string,
    send: (client: SageMakerLike) => Promise<T>,
  ): Promise<T> => {
    const started = Date.now();
    const fields = { provider: 'sagemaker', operation, clusterName, region };
    try {
      const output = await send(clientFor(region));
      const level = operation === 'CreateCluster' || operation === 'DeleteCluster' ? 'info' : 'debug';
      logger[level]('provider call', {
        ...fields,
        statusCode: output.$metadata?.httpStatusCode,
        attempts: output.$metadata?.attempts,
        durationMs: Date.now() - started,
      });
      return output;
    } catch (err) {
      const mapped = toHyperPodError(err, operation);
      logger.info('provider call failed', {
        ...fields,
        statusCode: (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode,
        error: mapped.name,
        providerCode: mapped.providerCode,
        durationMs: Date.now() - started,
      });
      throw mapped;
    }
  };

  /** The provisioner's tags of a cluster: the request it names, and whether it names this deployment. */
  const readOwnerTags = async (region: string, clusterName: string, arn: string): Promise<{ requestId?: string; ours: boolean }> => {
    const found = new Map<string, string>();
    let nextToken: string | undefined;
    do {
      const page = await call('ListTags', clusterName, region, (c) =>
        c.send(new ListTagsCommand({ ResourceArn: arn, ...(nextToken ? { NextToken: nextToken } : {}) })),
      );
      for (const tag of page.Tags ?? []) if (tag.Key && PROVISIONER_TAGS.includes(tag.Key)) found.set(tag.Key, tag.Value ?? '');
      nextToken = page.NextToken;
    } while (nextToken && found.size < PROVISIONER_TAGS.length);
    const requestId = found.get(REQUEST_ID_TAG);
    return { ...(requestId !== undefined ? { requestId } : {}), ours: found.get(DEPLOYMENT_TAG) === options.deployment };
  };

  return {
    name: 'sagemaker',

    async create(input) {
      const region = regionOf(input.location);
      const spec = input.cluster as SageMakerClusterSpec;
      // The validator refuses the provisioner's keys in a request; dropping them here too keeps ours the only ones.
      const tags: Tag[] = [
        ...(spec.Tags ?? []).filter((t) => !PROVISIONER_TAGS.includes(t.Key)),
        { Key: REQUEST_ID_TAG, Value: input.requestId },
        { Key: DEPLOYMENT_TAG, Value: options.deployment },
      ];
      // The body was validated against the CreateCluster model by the request validator; the SDK's enum types are narrower.
      const body = withSdkTimestamps({ ...spec, Tags: tags }) as unknown as CreateClusterRequest;
      const output = await call('CreateCluster', spec.ClusterName, region, (c) => c.send(new CreateClusterCommand(body)));
      if (!output.ClusterArn) throw new ProviderUnavailableError('HyperPod CreateCluster answered without a ClusterArn');
      return { providerId: output.ClusterArn, clusterName: spec.ClusterName };
    },

    async describe(ref: ClusterRef) {
      const region = regionOf(ref.location);
      const output = await call('DescribeCluster', ref.clusterName, region, (c) =>
        c.send(new DescribeClusterCommand({ ClusterName: ref.providerId ?? ref.clusterName })),
      );
      return describeHyperPodCluster(output);
    },

    async delete(ref: ClusterRef) {
      const region = regionOf(ref.location);
      await call('DeleteCluster', ref.clusterName, region, (c) =>
        c.send(new DeleteClusterCommand({ ClusterName: ref.providerId ?? ref.clusterName })),
      );
    },

    async findByName(location, clusterName): Promise<ExistingCluster | undefined> {
      const region = regionOf(location);
      try {
        const output = await call('DescribeCluster', clusterName, region, (c) =>
          c.send(new DescribeClusterCommand({ ClusterName: clusterName })),
        );
        const arn = output.ClusterArn ?? '';
        const owner = await readOwnerTags(region, clusterName, arn);
        return {
          providerId: arn,
          clusterName: output.ClusterName ?? clusterName,
          ...(owner.ours && owner.requestId !== undefined ? { ownerRequestId: owner.requestId } : {}),
          ...(output.CreationTime ? { createdAt: output.CreationTime.toISOString() } : {}),
        };
      } catch (err) {
        if (err instanceof ClusterNotFoundError) return undefined; // none by that name (or it vanished between the calls)
        throw err;
      }
    },

    async statuses(location): Promise<Map<string, string>> {
      const region = regionOf(location);
      const out = new Map<string, string>();
      let nextToken: string | undefined;
      do {
        const page = await call('ListClusters', '*', region, (c) =>
          c.send(new ListClustersCommand({ MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) })),
        );
        for (const summary of page.ClusterSummaries ?? []) {
          if (summary.ClusterArn) out.set(summary.ClusterArn, summary.ClusterStatus ?? 'Unknown');
        }
        nextToken = page.NextToken;
      } while (nextToken);
      return out;
    },

    async listOwned(location): Promise<OwnedCluster[]> {
      const region = regionOf(location);
      const owned: OwnedCluster[] = [];
      let nextToken: string | undefined;
      do {
        const page = await call('ListClusters', '*', region, (c) =>
          c.send(new ListClustersCommand({ MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) })),
        );
        for (const summary of page.ClusterSummaries ?? []) {
          const arn = summary.ClusterArn ?? '';
          const clusterName = summary.ClusterName ?? '';
          let owner: { requestId?: string; ours: boolean };
          try {
            owner = await readOwnerTags(region, clusterName, arn);
          } catch (err) {
            if (err instanceof ClusterNotFoundError) continue; // gone between the two calls
            throw err;
          }
          if (!owner.ours) continue;
          const status = summary.ClusterStatus ?? 'Unknown';
          owned.push({
            location: { provider: 'sagemaker', region },
            providerId: arn,
            clusterName,
            ...(owner.requestId !== undefined ? { requestId: owner.requestId } : {}),
            ...(summary.CreationTime ? { createdAt: summary.CreationTime.toISOString() } : {}),
            providerStatus: status,
            deleting: status === 'Deleting',
          });
        }
        nextToken = page.NextToken;
      } while (nextToken);
      return owned;
    },
  };
};
