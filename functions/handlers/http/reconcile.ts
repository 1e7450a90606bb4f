/** POST /reconcile: runs the reconciler now (it runs every 5 minutes anyway) and answers what it did. */
import { reconcile, type ReconcileDeps } from '../../core/reconcile';
import { httpHandler, json } from '../../platform/middleware/http';
import { reconcileDeps } from '../../wiring/reconcile';
import { reportReconcile } from '../reconcile';

export const makeHandler = (deps: () => ReconcileDeps) =>
  httpHandler('httpReconcile', async () => {
    const report = await reconcile(deps());
    reportReconcile(report);
    return json(200, report);
  });

export const handler = makeHandler(reconcileDeps);
