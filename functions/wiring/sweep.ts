/**
 * The sweeper's dependencies: the store, the providers (this deployment's name from `ENV.deploymentName`), the HyperPod
 * regions (`ENV.allowedRegions`, a comma list; default the deployment's own region), the grace period (`ENV.sweepGraceSeconds`,
 * default 30 minutes) and, for the scheduled sweep only, the bus the orphans are reported on (`ENV.eventBusName`).
 */
import { ENV } from '../contract/environment.js';
import { DEFAULT_SWEEP_GRACE_SECONDS, type SweepDeps } from '../core/sweep';
import { once, optional, optionalInt, required } from '../platform/config';
import { clusterStore } from './store';
import { providerFor } from './providers';
import { lazyEventPublisher } from './lazy';

/** The regions of a comma list, trimmed, without empties or repeats. */
export const regionList = (value: string): string[] => [
  ...new Set(
    value
      .split(',')
      .map((region) => region.trim())
      .filter(Boolean),
  ),
];

/** What GET /orphans needs: a dry run lists, and reports nothing. */
export const orphanListDeps = once(
  (): SweepDeps => ({
    store: clusterStore(),
    provider: providerFor,
    deployment: required(ENV.deploymentName),
    regions: regionList(optional(ENV.allowedRegions, required(ENV.awsRegion))),
    graceSeconds: optionalInt(ENV.sweepGraceSeconds, DEFAULT_SWEEP_GRACE_SECONDS),
  }),
);

/** The scheduled sweep: deletes leftovers and reports orphans on the project bus. */
export const sweepDeps = once(
  (): SweepDeps => ({
    ...orphanListDeps(),
    events: lazyEventPublisher(),
    eventBusName: required(ENV.eventBusName),
  }),
);
