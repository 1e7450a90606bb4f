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

/** Describes until the provider no longer knows the cluster (or gives up after 5 s); the last answer's error name. */
export const untilGone = async (provider: ClusterProvider, target: ClusterRef): Promise<string> => {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const answer = await provider.describe(target).then(
      () => 'still there',
      (err: Error) => err.name,
    );
    if (answer !== 'still there' || Date.now() > deadline) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};
