/**
 * The one loader of the state machine definitions. The ASL files beside it are the definitions (valid ASL as
 * committed, with their defaults); this module applies per-deployment settings to them and binds each Lambda task
 * to its function. It is used by serverless.yml (`${file(./statemachines/definitions.js):provisionCluster}`), by the
 * local stack and by the tests, so all three run the same states, retries and catches.
 *
 * Lambda tasks name their function by key in a placeholder ARN (`...:function:createCluster`); the deployment binds
 * them with `Fn::GetAtt: [createCluster, Arn]` (serverless-step-functions resolves function keys), local runs bind
 * them by state name to the handler code.
 */
import { readFileSync } from 'node:fs';

const load = (file) => JSON.parse(readFileSync(new URL(file, import.meta.url), 'utf8'));

/** The definitions exactly as committed. */
export const provisionClusterAsl = () => load('./provision-cluster.asl.json');
export const deleteClusterAsl = () => load('./delete-cluster.asl.json');

/** A member of the capacity policy, which both steps that may start a capacity wait receive. */
const capacityPolicy = (member) =>
  ['CreateCluster', 'DescribeCluster'].map((state) => ['States', state, 'Parameters', 'capacityRetry', member]);

/**
 * Deployment settings: name -> where it lands in which definition. A setting may land in several places, so the
 * policy handed to the create step and to the poll step (both may start a capacity wait) can never disagree. The
 * capacity backoff is computed by the tasks (functions/core/capacity.ts) and waited out by a Wait state, so the
 * record's nextAttemptAt is the real time of the next attempt. `description` is what the setting means, for the
 * docs (scripts/generate-docs.ts writes the settings table from here; the default is the committed ASL value).
 * @type {Record<string, { machine: 'provision' | 'delete', description: string, paths: (string | number)[][] }>}
 */
export const SETTINGS = {
  capacityRetryIntervalSeconds: {
    machine: 'provision',
    description:
      'Ceiling of the first full-jitter wait after a shortage, a quota that can fit, a taken name or a provider outage at create, in seconds.',
    paths: capacityPolicy('IntervalSeconds'),
  },
  capacityRetryBackoffRate: {
    machine: 'provision',
    description: 'Growth of that ceiling after each further refusal.',
    paths: capacityPolicy('BackoffRate'),
  },
  capacityRetryMaxDelaySeconds: {
    machine: 'provision',
    description:
      'Cap of the ceiling, in seconds; a horizon too long for the attempt budget stretches it to 2 × horizon / capacityRetryMaxAttempts.',
    paths: capacityPolicy('MaxDelaySeconds'),
  },
  capacityRetryMaxAttempts: {
    machine: 'provision',
    description:
      "Create attempts a request makes at most (an execution's history holds 25,000 events); its retry horizon usually ends it first.",
    paths: capacityPolicy('MaxAttempts'),
  },
  shortOfferingSeconds: {
    machine: 'provision',
    description:
      'Longest time an offering (provider, region or location, instance type) found short is remembered as short for every request; the memory of one shortage grows with the backoff of the request that found it, up to this.',
    paths: capacityPolicy('ShortOfferingSeconds'),
  },
  probeLeaseSeconds: {
    machine: 'provision',
    description: 'How long one request may hold the probe of an offering whose memory ran out before another may take it.',
    paths: capacityPolicy('ProbeLeaseSeconds'),
  },
  queueProbeSeconds: {
    machine: 'provision',
    description:
      "How often the request first in a short offering's queue probes it, in seconds (its wait after a shortage, whatever its backoff; the memory of the shortage lasts no longer): one provider call per offering per interval, however many requests wait behind it.",
    paths: capacityPolicy('QueueProbeSeconds'),
  },
  pollMaxSeconds: {
    machine: 'provision',
    description: 'Longest wait between two status polls while creating, in seconds (polling starts at 30 s and grows ×1.5 per round).',
    paths: [['States', 'DescribeCluster', 'Parameters', 'maxWaitSeconds']],
  },
  hyperPodEventWaitSeconds: {
    machine: 'provision',
    description:
      "Longest wait between two polls of a HyperPod cluster being created: HyperPod's state-change events wake the workflow, and the reconciler's ListClusters (every 5 minutes) stands in for a lost one, so the wait runs to the deadline by default (a cluster InService below its minimum is described again every 5 minutes, one in a region whose events are not wired every minute: docs/providers.md).",
    paths: [['States', 'DescribeCluster', 'Parameters', 'eventWaitSeconds']],
  },
  tirPollMaxSeconds: {
    machine: 'provision',
    description: 'Longest wait between two polls of a TIR cluster being created, in seconds (TIR announces nothing).',
    paths: [['States', 'DescribeCluster', 'Parameters', 'noEventMaxWaitSeconds']],
  },
  provisionDeadlineSeconds: {
    machine: 'provision',
    description: 'A cluster not READY this long after the provider accepted its create fails with ProvisioningTimeoutError, in seconds.',
    paths: [['States', 'DescribeCluster', 'Parameters', 'deadlineSeconds']],
  },
  deleteDeadlineSeconds: {
    machine: 'delete',
    description: 'A cluster not gone this long after its delete started fails the deletion with ProvisioningTimeoutError, in seconds.',
    paths: [['States', 'DescribeDeletion', 'Parameters', 'deadlineSeconds']],
  },
};

const setAt = (obj, path, value) => {
  let node = obj;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined) throw new Error(`Definition has no ${path.join('.')}`);
    node = node[key];
  }
  node[path[path.length - 1]] = value;
};

/**
 * Applies settings (unset, null or '' keep the committed default). Values must be positive numbers.
 * @param {object} definition
 * @param {'provision' | 'delete'} machine
 * @param {Record<string, unknown>} settings
 */
export const applySettings = (definition, machine, settings = {}) => {
  const out = structuredClone(definition);
  for (const [name, raw] of Object.entries(settings)) {
    const setting = SETTINGS[name];
    if (!setting) throw new Error(`Unknown workflow setting "${name}"`);
    if (setting.machine !== machine || raw === undefined || raw === null || raw === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`Workflow setting ${name} must be a positive number, got "${raw}"`);
    for (const path of setting.paths) setAt(out, path, value);
  }
  return out;
};

const LAMBDA_PLACEHOLDER = /^arn:aws:lambda:[^:]*:\d{12}:function:([A-Za-z0-9]+)$/;

/** The Resource of a task that invokes a Lambda function and waits for its task token (SendTaskSuccess). */
export const CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';

/** Function key of a Lambda task state (a plain invoke, or a callback task's FunctionName), or undefined for other states. */
export const lambdaFunctionKey = (state) => {
  if (state?.Type !== 'Task') return undefined;
  const arn = state.Resource === CALLBACK_RESOURCE ? state.Parameters?.FunctionName : state.Resource;
  const match = typeof arn === 'string' ? LAMBDA_PLACEHOLDER.exec(arn) : null;
  return match ? match[1] : undefined;
};

/** Whether the state is a callback task: it ends when its token is returned (or its timeout passes). */
export const isCallbackTask = (state) => Boolean(state && state.Type === 'Task' && state.Resource === CALLBACK_RESOURCE);

/**
 * Replaces each Lambda task's placeholder function ARN (its Resource, or a callback task's FunctionName) with
 * `bind(functionKey)`.
 * @param {object} definition
 * @param {(functionKey: string) => unknown} bind
 */
export const bindLambdaTasks = (definition, bind) => {
  const out = structuredClone(definition);
  for (const state of Object.values(out.States)) {
    const key = lambdaFunctionKey(state);
    if (!key) continue;
    if (isCallbackTask(state)) state.Parameters.FunctionName = bind(key);
    else state.Resource = bind(key);
  }
  return out;
};

/** Reads every setting from serverless params; an absent param keeps the committed default. */
const settingsFromServerless = async (resolveVariable) => {
  const settings = {};
  for (const name of Object.keys(SETTINGS)) {
    settings[name] = await resolveVariable(`param:${name}, ''`);
  }
  return settings;
};

const getAtt = (functionKey) => ({ 'Fn::GetAtt': [functionKey, 'Arn'] });

/** serverless.yml: `definition: ${file(./statemachines/definitions.js):provisionCluster}` */
export const provisionCluster = async ({ resolveVariable }) =>
  bindLambdaTasks(applySettings(provisionClusterAsl(), 'provision', await settingsFromServerless(resolveVariable)), getAtt);

/** serverless.yml: `definition: ${file(./statemachines/definitions.js):deleteCluster}` */
export const deleteCluster = async ({ resolveVariable }) =>
  bindLambdaTasks(applySettings(deleteClusterAsl(), 'delete', await settingsFromServerless(resolveVariable)), getAtt);
