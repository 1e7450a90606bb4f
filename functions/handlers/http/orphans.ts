/**
 * GET /orphans: what the sweeper would find now, as a dry run: this deployment's clusters that no record owns (orphans,
 * reported by the hourly sweep, never deleted) and its leftovers (deleted by the sweep once their grace has passed).
 * Nothing is deleted and nothing is reported.
 */
import { sweep, type SweepDeps } from '../../core/sweep';
import { isAdmin, principalOf } from '../../core/access';
import { callerArnOf, forbidden, httpHandler, json } from '../../platform/middleware/http';
import { adminPrincipals } from '../../wiring/access';
import { orphanListDeps } from '../../wiring/sweep';

export const makeHandler = (deps: () => SweepDeps, admins: () => readonly string[] = adminPrincipals) =>
  httpHandler('httpOrphans', async (event) => {
    // Not about one request: admins only.
    if (!isAdmin(principalOf(callerArnOf(event)), admins())) throw forbidden();
    const report = await sweep(deps(), { dryRun: true });
    return json(200, {
      locations: report.locations,
      orphans: report.items.filter((item) => item.finding === 'orphan' || item.finding === 'leftover'),
      failures: report.failures,
    });
  });

export const handler = makeHandler(orphanListDeps);
