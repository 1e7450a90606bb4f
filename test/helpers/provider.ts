/** Shared by the provider adapter tests. */
import type { ProvisionerError } from '../../functions/core/errors';
import type { ClusterDescription, ClusterProvider, ClusterRef } from '../../functions/core/provider';

/** The error a promise rejects with (fails the test if it resolves). */
export const rejection = async (promise: Promise<unknown>): Promise<ProvisionerError> => {
  try {
    await promise;
  } catch (err) {
    return err as ProvisionerError;
  }
  throw new Error('expected a rejection');
};

/** Describes until `state` (or gives up after 3 s): the simulators move on their own clock. */
export const until = async (
  provider: ClusterProvider,
  target: ClusterRef,
  state: ClusterDescription['state'],
): Promise<ClusterDescription> => {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const description = await provider.describe(target);
    if (description.state === state || Date.now() > deadline) return description;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
