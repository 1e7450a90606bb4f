/** Tasks `ParkToRetry` and `ParkUntilChange`: record the workflow's task token, so an event or a probe can wake it. */
import { park, type ParkInput, type WakeDeps } from '../../core/wake';
import { taskHandler } from '../../platform/middleware/task';
import { wakeDeps } from '../../wiring/wake';

export const makeHandler = (deps: () => WakeDeps) => taskHandler('parkExecution', (input: ParkInput) => park(deps(), input));

export const handler = makeHandler(wakeDeps);
