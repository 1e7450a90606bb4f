/** The delete workflow's first step. */
import { ClusterNotFoundError } from '../errors';
import { iso, type WorkflowDeps } from './deps';
import { findOwn } from './discard';
import { providerOf, refOf } from './record';

/** Start of the delete workflow's work: mark DELETING (idempotent) and ask the provider to delete. */
export const deleteCluster = async (deps: WorkflowDeps, input: { requestId: string }): Promise<{ gone: boolean }> => {
  const record = await deps.store.require(input.requestId);
  if (record.status === 'DELETED') return { gone: true };
  const deleting =
    record.status === 'DELETING'
      ? record
      : await deps.store.transition(record.requestId, 'DELETING', { deleteRequestedAt: iso(deps) }, { reason: 'delete requested' });
  let target = deleting;
  if (!deleting.providerId) {
    if (deleting.attempts === 0) return { gone: true }; // never asked the provider for a cluster
    // A create may have reached the provider without its answer being recorded (the Lambda died, the request was
    // cancelled): find the cluster by name, and delete it when it is provably this request's.
    const found = await findOwn(deps.provider(providerOf(deleting)), deleting);
    if (!found) return { gone: true };
    target = await deps.store.update(record.requestId, { providerId: found.providerId }, ['DELETING']);
  }
  try {
    await deps.provider(providerOf(target)).delete(refOf(target));
    return { gone: false };
  } catch (err) {
    if (err instanceof ClusterNotFoundError) return { gone: true };
    throw err;
  }
};
