/** Dependencies of the submit path (HTTP, SQS, EventBridge, schedules). */
import { ENV } from '../contract/environment.js';
import type { IntakeDeps } from '../core/intake';
import type { DeploymentPolicy } from '../core/policy';
import type { SubmitDeps } from '../core/submit';
import { once, optional, optionalList, required, requiredList } from '../platform/config';
import { lazyEventPublisher, lazyPlanner, lazyStarter } from './lazy';
import { notifyPolicy } from './notify-policy';
import { lazyScheduler } from './scheduler';
import { clusterStore } from './store';

/**
 * The Step Functions starter. Each function's role may start only some machines, and only those ARNs are in its
 * environment: they are read when first used, and named when missing.
 */
export const workflowStarter = once(() =>
  lazyStarter({
    provisionStateMachineArn: () => required(ENV.provisionStateMachineArn),
    deleteStateMachineArn: () => required(ENV.deleteStateMachineArn),
  }),
);

const anyWhenUnset = (name: string): string[] => {
  const list = optionalList(name);
  return list.length > 0 ? list : ['*'];
};

/** The deployment's allow-lists (serverless.yml params allowedRegions, allowedExecutionRoles, allowedLifecycleBuckets). */
export const deploymentPolicy = once(
  (): DeploymentPolicy => ({
    allowedRegions: requiredList(ENV.allowedRegions),
    allowedExecutionRoles: requiredList(ENV.allowedExecutionRoles),
    allowedLifecycleBuckets: requiredList(ENV.allowedLifecycleBuckets),
    // Unset: nothing (access grants and node placement are allowed only where the deployment says).
    allowedEksClusters: optionalList(ENV.allowedEksClusters),
    allowedSubnets: optionalList(ENV.allowedSubnets),
    allowedSecurityGroups: optionalList(ENV.allowedSecurityGroups),
    allowedClusterRoles: optionalList(ENV.allowedClusterRoles),
    allowedTirProjects: optionalList(ENV.allowedTirProjects),
    // Within an allowed project, unset: any location and SKU.
    allowedTirLocations: anyWhenUnset(ENV.allowedTirLocations),
    allowedTirSkus: anyWhenUnset(ENV.allowedTirSkus),
    notify: notifyPolicy(),
  }),
);

/** The pre-flight plan: the plan function (PLAN_FUNCTION_NAME), invoked synchronously; read when first used. */
export const lambdaPlanner = once(() => lazyPlanner({ functionName: () => required(ENV.planFunctionName) }));

export const submitDeps = once(
  (): SubmitDeps => ({
    store: clusterStore(),
    starter: workflowStarter(),
    scheduler: lazyScheduler,
    defaultRegion: required(ENV.awsRegion),
    // Read when a request is first checked: httpDelete shares these dependencies but submits nothing, so its
    // environment carries no allow-lists.
    get policy() {
      return deploymentPolicy();
    },
    // A request with `preflight: true` (or every request, with the preflightDefault setting) is planned first.
    get planner() {
      return lambdaPlanner();
    },
    preflightByDefault: optional(ENV.preflightDefault, 'false') === 'true',
  }),
);

export const intakeDeps = once(
  (): IntakeDeps => ({
    ...submitDeps(),
    events: lazyEventPublisher(),
    eventBusName: required(ENV.eventBusName),
  }),
);
