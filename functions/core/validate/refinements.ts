/**
 * The refinements: the rules JSON Schema cannot state (a value against another one, uniqueness of a member across
 * items, durations as lengths of time, notify targets' addresses) and the warnings. The rules it can state are in
 * functions/contract/request.schema.json, with their words in ./messages.ts (RULE_MESSAGES). Each refinement reads own
 * properties only and checks its own types, since it runs on invalid requests too (every error at once).
 */
import { MAX_HORIZON_SECONDS } from '../capacity';
import { durationSeconds } from '../duration';
import { notifyErrors } from '../notify';
import { parseS3Uri } from '../s3-uri';
import { type Obj, at, isObject, own } from './schema';
import type { Findings } from './findings';

export const MIN_DURATION = 60; // PT1M
export const MAX_DELETE_AFTER = 365 * 86400; // P365D

export const durationWithin = (out: Findings, path: string, value: unknown, max: number, maxText: string): void => {
  const seconds = typeof value === 'string' && value.length <= 64 ? durationSeconds(value) : undefined;
  if (seconds === undefined) return;
  if (seconds < MIN_DURATION) out.error(path, 'must be at least PT1M (one minute)');
  else if (seconds > max) out.error(path, `must be at most ${maxText}`);
};

/** Own items of a list that are objects, with their index. */
export const objectItems = (value: unknown): Array<[number, Obj]> =>
  Array.isArray(value) ? value.flatMap((item, i): Array<[number, Obj]> => (isObject(item) ? [[i, item]] : [])) : [];

/** The later duplicates of a list of [pointer, value], each reported naming the first. */
export const duplicates = (out: Findings, entries: Iterable<[string, unknown]>, why: string): void => {
  const first = new Map<unknown, string>();
  for (const [path, value] of entries) {
    if (out.full) return out.truncate();
    if (typeof value !== 'string' && typeof value !== 'number') continue;
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, path);
    else out.error(path, `duplicates ${earlier}: ${why}`);
  }
};

export const listEntries = (path: string, value: unknown): Array<[string, unknown]> =>
  Array.isArray(value) ? value.map((item, i): [string, unknown] => [at(path, i), item]) : [];

export const refineRequest = (request: Obj, out: Findings): void => {
  durationWithin(out, '/deleteAfter', own(request, 'deleteAfter'), MAX_DELETE_AFTER, 'P365D (365 days)');
  const retry = own(request, 'retry');
  if (isObject(retry)) durationWithin(out, '/retry/for', own(retry, 'for'), MAX_HORIZON_SECONDS, 'P14D (14 days)');
  for (const e of notifyErrors(own(request, 'notify'))) out.error(e.path, e.message);
  const cluster = own(request, 'cluster');
  if (!isObject(cluster)) return;
  if (out.provider === 'sagemaker') refineCreateCluster(cluster, out);
  else if (out.provider === 'tir') refineTirBody(cluster, out);
};

export const refineCreateCluster = (cluster: Obj, out: Findings): void => {
  const groups = objectItems(own(cluster, 'InstanceGroups')).map(([i, group]): [string, Obj] => [at('/cluster/InstanceGroups', i), group]);
  const restricted = objectItems(own(cluster, 'RestrictedInstanceGroups')).map(([i, group]): [string, Obj] => [
    at('/cluster/RestrictedInstanceGroups', i),
    group,
  ]);
  duplicates(
    out,
    [...groups, ...restricted].map(([path, group]): [string, unknown] => [at(path, 'InstanceGroupName'), own(group, 'InstanceGroupName')]),
    'InstanceGroupName must be unique within the cluster',
  );
  for (const [path, group] of groups) {
    if (out.full) return out.truncate();
    minInstanceCount(path, group, out);
    const lifeCycle = own(group, 'LifeCycleConfig');
    if (isObject(lifeCycle)) sageMakerBucket(at(path, 'LifeCycleConfig'), lifeCycle, out);
  }
  for (const [path, group] of [...groups, ...restricted]) {
    if (out.full) return out.truncate();
    const checks = at(path, 'OnStartDeepHealthChecks');
    duplicates(out, listEntries(checks, own(group, 'OnStartDeepHealthChecks')), 'deep health checks must be distinct');
  }
  const tags = objectItems(own(cluster, 'Tags'));
  duplicates(
    out,
    tags.map(([i, tag]): [string, unknown] => [at(at('/cluster/Tags', i), 'Key'), own(tag, 'Key')]),
    'tag keys must be unique',
  );
};

export const minInstanceCount = (path: string, group: Obj, out: Findings): void => {
  const min = own(group, 'MinInstanceCount');
  const count = own(group, 'InstanceCount');
  if (Number.isInteger(min) && Number.isInteger(count) && (min as number) > (count as number))
    out.error(at(path, 'MinInstanceCount'), `must be at most InstanceCount (${String(count)}) (got ${String(min)})`);
};

export const sageMakerBucket = (path: string, config: Obj, out: Findings): void => {
  const uri = own(config, 'SourceS3Uri');
  if (typeof uri !== 'string' || uri.length > 1024) return;
  const bucket = parseS3Uri(uri)?.bucket;
  if (bucket !== undefined && !bucket.startsWith('sagemaker-'))
    out.warn(
      at(path, 'SourceS3Uri'),
      'names a bucket that does not start with "sagemaker-": the HyperPod managed instance policy ' +
        '(AmazonSageMakerClusterInstanceRolePolicy) only grants sagemaker- buckets, so the nodes cannot fetch the ' +
        'lifecycle scripts unless the execution role grants this bucket itself',
    );
};

export const refineTirBody = (body: Obj, out: Findings): void => {
  duplicates(out, listEntries('/cluster/ssh_key_ids', own(body, 'ssh_key_ids')), 'SSH key ids must be unique');
  // The schema requires a script when script_added is true; a script without it is likely a mistake.
  const script = own(body, 'lifecycle_script');
  if (own(body, 'script_added') !== true && typeof script === 'string' && script.trim() !== '') {
    out.warn('/cluster/lifecycle_script', 'is set but script_added is not true, so TIR may not run it');
  }
};
