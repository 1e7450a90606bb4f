import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntakeDeps } from '../../functions/core/intake';
import { makeHandler } from '../../functions/handlers/event-submit';
import { eventBridgeEvent, lambdaContext } from '../fixtures/events';
import { hyperpodRequest, startEntryHarness, type EntryHarness } from '../helpers/workflow';

let h: EntryHarness;
beforeAll(async () => {
  h = await startEntryHarness();
});
afterAll(async () => {
  await h.close();
});

const handle = (detail: unknown, deps: () => IntakeDeps = () => h.intakeDeps, detailType?: string) =>
  makeHandler(deps)(eventBridgeEvent(detail, detailType) as never, lambdaContext('eventSubmit'));

describe('eventSubmit', () => {
  it('submits the request carried in detail and provisions it', async () => {
    const request = hyperpodRequest();
    await handle(request);
    await h.workflows.get(request.requestId)!.done;
    expect((await h.store.require(request.requestId)).status).toBe('READY');
  });

  it('answers an invalid request with a Cluster Request Rejected event and records nothing', async () => {
    const before = h.rejections().length;
    await handle({ requestId: 'eb-bad-1', provider: 'sagemaker', cluster: { ClusterName: 'x' } });
    const [rejection] = h.rejections().slice(before);
    expect(rejection).toMatchObject({ Source: 'gpu-cluster-provisioner', EventBusName: 'test-bus' });
    expect(rejection!.Detail).toMatchObject({ source: 'eventbridge', requestId: 'eb-bad-1', reason: 'invalid-request' });
    expect((rejection!.Detail.errors as Array<{ path: string }>).map((e) => e.path)).toContain('/cluster/InstanceGroups');
    expect(await h.store.get('eb-bad-1')).toBeUndefined();
  });

  it('throws on a transient failure so EventBridge retries the event', async () => {
    const deps: IntakeDeps = {
      ...h.intakeDeps,
      starter: {
        ...h.intakeDeps.starter,
        startProvisioning: async () => {
          throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        },
      },
    };
    await expect(handle(hyperpodRequest(), () => deps)).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it('does not submit an event that is not a Provision Cluster Requested envelope: a ParseError fails the invocation', async () => {
    const request = hyperpodRequest();
    const before = h.rejections().length;
    await expect(handle(request, () => h.intakeDeps, 'Provision Cluster Demanded')).rejects.toMatchObject({ name: 'ParseError' });
    const { detail: _detail, ...noDetail } = eventBridgeEvent(request);
    await expect(makeHandler(() => h.intakeDeps)(noDetail as never, lambdaContext('eventSubmit'))).rejects.toMatchObject({
      name: 'ParseError',
    });
    await expect(
      makeHandler(() => h.intakeDeps)({ ...eventBridgeEvent(request), id: 7 } as never, lambdaContext('eventSubmit')),
    ).rejects.toMatchObject({ name: 'ParseError' });
    expect(await h.store.get(request.requestId)).toBeUndefined();
    expect(h.workflows.get(request.requestId)).toBeUndefined();
    expect(h.rejections()).toHaveLength(before);
  });
});
