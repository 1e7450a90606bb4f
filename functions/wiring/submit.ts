/** Dependencies of the submit path (HTTP, SQS, EventBridge, schedules). */
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
    provisionStateMachineArn: () => required('PROVISION_STATE_MACHINE_ARN'),
    deleteStateMachineArn: () => required('DELETE_STATE_MACHINE_ARN'),
  }),
);

const anyWhenUnset = (name: string): string[] => {
  const list = optionalList(name);
  return list.length > 0 ? list : ['*'];
};

/** The deployment's allow-lists (serverless.yml params allowedRegions, allowedExecutionRoles, allowedLifecycleBuckets). */
export const deploymentPolicy = once(
  (): DeploymentPolicy => ({
    allowedRegions: requiredList('ALLOWED_REGIONS'),
    allowedExecutionRoles: requiredList('ALLOWED_EXECUTION_ROLES'),
    allowedLifecycleBuckets: requiredList('ALLOWED_LIFECYCLE_BUCKETS'),
    // Unset: nothing (access grants and node placement are allowed only where the deployment says).
    allowedEksClusters: optionalList('ALLOWED_EKS_CLUSTERS'),
    allowedSubnets: optionalList('ALLOWED_SUBNETS'),
    allowedSecurityGroups: optionalList('ALLOWED_SECURITY_GROUPS'),
    allowedClusterRoles: optionalList('ALLOWED_CLUSTER_ROLES'),
    allowedTirProjects: optionalList('ALLOWED_TIR_PROJECTS'),
    // Within an allowed project, unset: any location and SKU.
    allowedTirLocations: anyWhenUnset('ALLOWED_TIR_LOCATIONS'),
    allowedTirSkus: anyWhenUnset('ALLOWED_TIR_SKUS'),
    notify: notifyPolicy(),
  }),
);

/** The pre-flight plan: the plan function (PLAN_FUNCTION_NAME), invoked synchronously; read when first used. */
export const lambdaPlanner = once(() => lazyPlanner({ functionName: () => required('PLAN_FUNCTION_NAME') }));

export const submitDeps = once(
  (): SubmitDeps => ({
    store: clusterStore(),
    starter: workflowStarter(),
    scheduler: lazyScheduler,
    defaultRegion: required('AWS_REGION'),
    // Read when a request is first checked: httpDelete shares these dependencies but submits nothing, so its
    // environment carries no allow-lists.
    get policy() {
      return deploymentPolicy();
    },
    // A request with `preflight: true` (or every request, with the preflightDefault setting) is planned first.
    get planner() {
      return lambdaPlanner();
    },
    preflightByDefault: optional('PREFLIGHT_DEFAULT', 'false') === 'true',
  }),
);

export const intakeDeps = once(
  (): IntakeDeps => ({
    ...submitDeps(),
    events: lazyEventPublisher(),
    eventBusName: required('EVENT_BUS_NAME'),
  }),
);
