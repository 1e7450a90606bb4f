/**
 * The SageMaker simulator's state file (the `stateFile` option): the clusters, the capacity and quota values set at
 * run time and the creation counter, written atomically after every change and read back at start.
 */
import type { StateFile } from './common';
import { StateReader } from './common';
import type { InstanceGroupSpec, SimCluster, Tag } from './hyperpod-model';

export const STATE_FORMAT = 'sagemaker-simulator-state';

export interface CapacityChange {
  instanceType: string;
  region?: string;
  nodes: number;
}

export interface QuotaChange {
  instanceType: string;
  region?: string;
  limit: number;
}

interface StoredGroup {
  spec: InstanceGroupSpec;
  types: string[];
  min: number;
  quotaType: string;
  held: Record<string, number>;
}

type StoredCluster = Omit<SimCluster, 'groups'> & { groups: StoredGroup[] };

/** What `stateFile` holds. */
export interface SageMakerState {
  format: typeof STATE_FORMAT;
  version: 1;
  /** The creation counter (the order of clusters created in the same millisecond). */
  seq: number;
  /** setCapacity / setQuota values, in the order to apply them. */
  capacity: CapacityChange[];
  quotas: QuotaChange[];
  /** In creation order. */
  clusters: StoredCluster[];
}

export const storeCluster = (c: SimCluster): StoredCluster => ({
  ...c,
  groups: c.groups.map((g) => ({ spec: g.spec, types: g.types, min: g.min, quotaType: g.quotaType, held: Object.fromEntries(g.held) })),
});

/** The state in a file this simulator wrote; throws the file's `corrupt` error for anything else. */
export const readState = (raw: unknown, file: StateFile): SageMakerState => {
  const r = new StateReader(file);
  const state = r.object(raw, 'the top level');
  if (state.format !== STATE_FORMAT) throw file.corrupt(`it is not a SageMaker simulator state (format ${JSON.stringify(state.format)})`);
  if (state.version !== 1) throw file.corrupt(`version ${JSON.stringify(state.version)} is not supported (expected 1)`);
  const change = (value: unknown, path: string, member: 'nodes' | 'limit') => {
    const o = r.object(value, path);
    if (typeof o[member] === 'number' && (o[member] as number) < 0) throw file.corrupt(`${path}.${member} is negative`);
    return {
      instanceType: r.string(o.instanceType, `${path}.instanceType`),
      ...(o.region !== undefined ? { region: r.string(o.region, `${path}.region`) } : {}),
      [member]: r.number(o[member], `${path}.${member}`),
    };
  };
  const names = new Set<string>();
  const clusters = r.array(state.clusters, 'clusters').map((value, i): StoredCluster => {
    const path = `clusters[${i}]`;
    const c = r.object(value, path);
    const name = r.string(c.name, `${path}.name`);
    const region = r.string(c.region, `${path}.region`);
    if (names.has(`${region}/${name}`)) throw file.corrupt(`${path} repeats the cluster ${name} of ${region}`);
    names.add(`${region}/${name}`);
    const groups = r.array(c.groups, `${path}.groups`).map((raw, j): StoredGroup => {
      const at = `${path}.groups[${j}]`;
      const g = r.object(raw, at);
      const spec = r.object(g.spec, `${at}.spec`);
      r.string(spec.InstanceGroupName, `${at}.spec.InstanceGroupName`);
      r.count(spec.InstanceCount, `${at}.spec.InstanceCount`);
      r.optional(spec.MinInstanceCount, (v) => r.count(v, `${at}.spec.MinInstanceCount`));
      const types = r.array(g.types, `${at}.types`).map((t, k) => r.string(t, `${at}.types[${k}]`));
      if (types.length === 0) throw file.corrupt(`${at}.types is empty`);
      const held = r.object(g.held, `${at}.held`);
      for (const [type, n] of Object.entries(held)) r.count(n, `${at}.held.${type}`);
      return {
        spec: spec as InstanceGroupSpec,
        types,
        min: r.count(g.min, `${at}.min`),
        quotaType: r.string(g.quotaType, `${at}.quotaType`),
        held: held as Record<string, number>,
      };
    });
    const tags = r.array(c.tags, `${path}.tags`).map((raw, j): Tag => {
      const tag = r.object(raw, `${path}.tags[${j}]`);
      return { Key: r.string(tag.Key, `${path}.tags[${j}].Key`), Value: r.string(tag.Value, `${path}.tags[${j}].Value`) };
    });
    const outcome = r.optional(c.outcome, (v): SimCluster['outcome'] => {
      const o = r.object(v, `${path}.outcome`);
      const at = r.number(o.at, `${path}.outcome.at`);
      if (o.ok === true) return { ok: true, at };
      if (o.ok === false) return { ok: false, at, message: r.string(o.message, `${path}.outcome.message`) };
      throw file.corrupt(`${path}.outcome.ok is neither true nor false`);
    });
    const failure = r.optional(c.failure, (v): SimCluster['failure'] => {
      const o = r.object(v, `${path}.failure`);
      return {
        status: r.oneOf(o.status, `${path}.failure.status`, ['Failed', 'RollingBack'] as const),
        message: r.string(o.message, `${path}.failure.message`),
      };
    });
    const deletingSince = r.optional(c.deletingSince, (v) => r.number(v, `${path}.deletingSince`));
    const minimumSince = r.optional(c.minimumSince, (v) => r.number(v, `${path}.minimumSince`));
    return {
      seq: r.count(c.seq, `${path}.seq`),
      name,
      arn: r.string(c.arn, `${path}.arn`),
      region,
      createdAt: r.number(c.createdAt, `${path}.createdAt`),
      groups,
      tags,
      extra: r.object(c.extra, `${path}.extra`),
      ...(outcome ? { outcome } : {}),
      ...(failure ? { failure } : {}),
      ...(deletingSince !== undefined ? { deletingSince } : {}),
      ...(minimumSince !== undefined ? { minimumSince } : {}),
    };
  });
  return {
    format: STATE_FORMAT,
    version: 1,
    seq: r.count(state.seq, 'seq'),
    capacity: r.array(state.capacity, 'capacity').map((v, i) => change(v, `capacity[${i}]`, 'nodes') as CapacityChange),
    quotas: r.array(state.quotas, 'quotas').map((v, i) => change(v, `quotas[${i}]`, 'limit') as QuotaChange),
    clusters,
  };
};
