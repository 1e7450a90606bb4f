/** POST /reconcile: runs the reconciler now (it runs every 5 minutes anyway) and answers what it did. */
import { reconcile, type ReconcileDeps } from '../../core/reconcile';
import { isAdmin, principalOf } from '../../core/access';
import { callerArnOf, forbidden, httpHandler, json } from '../../platform/middleware/http';
import { adminPrincipals } from '../../wiring/access';
import { reconcileDeps } from '../../wiring/reconcile';
import { reportReconcile } from '../reconcile';

export const makeHandler = (deps: () => ReconcileDeps, admins: () => readonly string[] = adminPrincipals) =>
  httpHandler('httpReconcile', async (event) => {
    // Not about one request: admins only.
    if (!isAdmin(principalOf(callerArnOf(event)), admins())) throw forbidden();
    const report = await reconcile(deps());
    reportReconcile(report);
    return json(200, report);
  });

export const handler = makeHandler(reconcileDeps);
