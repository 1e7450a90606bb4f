/** What callers see of a record: everything but internal bookkeeping. */
import type { ClusterRecord } from './store';

export type ClusterView = Omit<ClusterRecord, 'requestHash'>;

export const recordView = (record: ClusterRecord): ClusterView => {
  const { requestHash: _hash, ...view } = record;
  return view;
};
