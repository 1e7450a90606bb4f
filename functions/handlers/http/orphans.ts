/**
 * GET /orphans: what the sweeper would find now, as a dry run: this deployment's clusters that no record owns (orphans,
 * reported by the hourly sweep, never deleted) and its leftovers (deleted by the sweep once their grace has passed).
 * Nothing is deleted and nothing is reported.
 */
import { sweep, type SweepDeps } from '../../core/sweep';
import { httpHandler, json } from '../../platform/middleware/http';
import { orphanListDeps } from '../../wiring/sweep';

export const makeHandler = (deps: () => SweepDeps) =>
  httpHandler('httpOrphans', async () => {
    const report = await sweep(deps(), { dryRun: true });
    return json(200, {
      locations: report.locations,
      orphans: report.items.filter((item) => item.finding === 'orphan' || item.finding === 'leftover'),
      failures: report.failures,
    });
  });

export const handler = makeHandler(orphanListDeps);
