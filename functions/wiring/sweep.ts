/**
 * The sweeper's dependencies: the store, the providers (this deployment's name from DEPLOYMENT_NAME), the HyperPod
 * regions (ALLOWED_REGIONS, a comma list; default the deployment's own region), the grace period (SWEEP_GRACE_SECONDS,
 * default 30 minutes) and, for the scheduled sweep only, the bus the orphans are reported on (EVENT_BUS_NAME).
 */
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
    deployment: required('DEPLOYMENT_NAME'),
    regions: regionList(optional('ALLOWED_REGIONS', required('AWS_REGION'))),
    graceSeconds: optionalInt('SWEEP_GRACE_SECONDS', DEFAULT_SWEEP_GRACE_SECONDS),
  }),
);

/** The scheduled sweep: deletes leftovers and reports orphans on the project bus. */
export const sweepDeps = once(
  (): SweepDeps => ({
    ...orphanListDeps(),
    events: lazyEventPublisher(),
    eventBusName: required('EVENT_BUS_NAME'),
  }),
);
