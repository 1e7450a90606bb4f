/** Clusters this request gives up or finds: deleting them, and proving one is its own. */
import { ClusterNotFoundError, RecordConflictError, describeError } from '../errors';
import type { ClusterDescription, ClusterProvider, ClusterRef, ExistingCluster } from '../provider';
import { clusterNameOfPlacement } from '../placements';
import type { ClusterRecord, DiscardedCluster } from '../store';
import { CANCELLED_STATUSES, type CreateResult, type WorkflowDeps } from './deps';
import { isDiscarded, locationOf, placementAt, providerOf, refOf } from './record';

/**
 * A create answered after a DELETE cancelled the request (the create was already on the wire): the cluster is
 * deleted at once and recorded, so the delete workflow waits for it too.
 */
export const discardCancelled = async (deps: WorkflowDeps, requestId: string, providerId: string): Promise<CreateResult> => {
  const record = await deps.store.require(requestId);
  if (!CANCELLED_STATUSES.includes(record.status))
    throw new RecordConflictError(`The record of ${requestId} changed under the create (${record.status})`);
  try {
    await deps.provider(providerOf(record)).delete(refOf(record, providerId));
  } catch (err) {
    if (!(err instanceof ClusterNotFoundError))
      deps.onWarning?.('Could not delete a cluster created after its request was cancelled', { providerId, error: describeError(err) });
  }
  if (record.status === 'DELETING') await deps.store.update(requestId, { providerId }, ['DELETING']).catch(() => undefined);
  return { action: 'CANCELLED' };
};

/** Whether a discarded cluster is gone; starts (or repeats) its deletion while it is not. */
export const cleanUp = async (deps: WorkflowDeps, record: ClusterRecord, pending: DiscardedCluster): Promise<boolean> => {
  const provider = deps.provider(placementAt(record, pending.placement ?? 0).provider);
  const ref = refOf(record, pending.providerId, pending.placement ?? 0);
  let description: ClusterDescription;
  try {
    description = await provider.describe(ref);
  } catch (err) {
    if (err instanceof ClusterNotFoundError) return true;
    throw err;
  }
  if (description.state === 'DELETED') return true;
  if (description.state !== 'DELETING') await startDiscard(deps, provider, ref);
  return false;
};

/** Asks the provider to delete a cluster we give up; a refusal is logged and the cleanup step asks again. */
export const startDiscard = async (deps: WorkflowDeps, provider: ClusterProvider, ref: ClusterRef): Promise<void> => {
  try {
    await provider.delete(ref);
  } catch (err) {
    if (err instanceof ClusterNotFoundError) return;
    deps.onWarning?.('Could not start deleting a discarded cluster (asked again before the next create)', {
      providerId: ref.providerId,
      error: describeError(err),
    });
  }
};

/** The cluster of the request's name when it is provably this request's (and not one it discarded). */
export const findOwn = async (provider: ClusterProvider, record: ClusterRecord): Promise<ExistingCluster | undefined> => {
  const found = await provider.findByName(locationOf(record), clusterNameOfPlacement(placementAt(record)));
  if (!found || isDiscarded(record, found.providerId)) return undefined;
  const ours = found.ownerRequestId === record.requestId || (record.providerId !== undefined && found.providerId === record.providerId);
  return ours ? found : undefined;
};
