/**
 * EventBridge patterns as the local stack matches them, and the rules it reads from serverless.yml: an event reaches
 * the function whose rule matches, and no other.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DETAIL_TYPES, EVENT_SOURCE } from '../../functions/core/events';
import { NOTIFIED_DETAIL_TYPES } from '../../functions/core/notify';
import { matchesPattern, matchingRules, rulesOfServerless, type BusEvent } from '../../local/simulators/event-patterns';

const event = (over: Partial<BusEvent> & { detail?: Record<string, unknown> } = {}): BusEvent => ({
  version: '0',
  id: 'e-1',
  'detail-type': 'Cluster Ready',
  source: EVENT_SOURCE,
  account: '000000000000',
  time: '2026-11-29T08:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: {},
  ...over,
});

describe('matchesPattern', () => {
  it('matches exact values, and arrays as any of', () => {
    expect(matchesPattern({ source: [EVENT_SOURCE] }, event())).toBe(true);
    expect(matchesPattern({ source: ['other'] }, event())).toBe(false);
    expect(matchesPattern({ 'detail-type': ['Cluster Deleted', 'Cluster Ready'] }, event())).toBe(true);
    expect(matchesPattern({ source: [EVENT_SOURCE], 'detail-type': ['Cluster Deleted'] }, event())).toBe(false);
    expect(matchesPattern({}, event())).toBe(true);
  });

  it('matches nested detail fields, numbers, booleans and null', () => {
    const e = event({ detail: { status: 'READY', nodes: { current: 4 }, ok: true, gone: null } });
    expect(matchesPattern({ detail: { status: ['READY'] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { nodes: { current: [4] } } }, e)).toBe(true);
    expect(matchesPattern({ detail: { nodes: { current: [5] } } }, e)).toBe(false);
    expect(matchesPattern({ detail: { ok: [true], gone: [null] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { status: { deeper: ['x'] } } }, e)).toBe(false);
    // A list of alternatives against an object matches nothing (patterns match leaves).
    expect(matchesPattern({ detail: { nodes: ['x'] } }, e)).toBe(false);
  });

  it('matches prefix, suffix, equals-ignore-case, wildcard and numeric', () => {
    const e = event({ detail: { clusterName: 'gpu-train-7', count: 12 } });
    expect(matchesPattern({ detail: { clusterName: [{ prefix: 'gpu-' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { clusterName: [{ prefix: 'cpu-' }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { clusterName: [{ suffix: '-7' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { clusterName: [{ prefix: { 'equals-ignore-case': 'GPU-' } }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { clusterName: [{ 'equals-ignore-case': 'GPU-TRAIN-7' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { clusterName: [{ wildcard: 'gpu-*-7' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { count: [{ numeric: ['>', 10, '<=', 12] }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { count: [{ numeric: ['<', 10] }] } }, e)).toBe(false);
  });

  it('matches anything-but (a value, a list, a prefix) and exists', () => {
    const e = event({ detail: { status: 'FAILED' } });
    expect(matchesPattern({ detail: { status: [{ 'anything-but': 'READY' }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { status: [{ 'anything-but': ['READY', 'FAILED'] }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { status: [{ 'anything-but': { prefix: 'FAIL' } }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { status: [{ exists: true }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { error: [{ exists: false }] } }, e)).toBe(true);
    expect(matchesPattern({ detail: { error: [{ exists: true }] } }, e)).toBe(false);
    expect(matchesPattern({ detail: { status: [{ exists: false }] } }, e)).toBe(false);
    // An absent field matches nothing but exists: false, anything-but included.
    expect(matchesPattern({ detail: { error: [{ 'anything-but': 'x' }] } }, e)).toBe(false);
  });

  it('matches an array in the event when any element matches', () => {
    const e = event({ resources: ['arn:aws:sagemaker:us-east-1:1:cluster/abc'] });
    expect(matchesPattern({ resources: [{ prefix: 'arn:aws:sagemaker:' }] }, e)).toBe(true);
    expect(matchesPattern({ resources: ['arn:aws:sagemaker:us-east-1:1:cluster/xyz'] }, e)).toBe(false);
  });

  it('routes a SageMaker HyperPod state change on its ClusterStatus', () => {
    const pattern = {
      source: ['aws.sagemaker'],
      'detail-type': ['SageMaker HyperPod Cluster State Change'],
      detail: { ClusterStatus: ['InService', 'Failed', 'RollingBack'] },
    };
    const change = (status: string) =>
      event({
        source: 'aws.sagemaker',
        'detail-type': 'SageMaker HyperPod Cluster State Change',
        detail: { ClusterArn: 'arn', ClusterStatus: status },
      });
    expect(matchesPattern(pattern, change('InService'))).toBe(true);
    expect(matchesPattern(pattern, change('Creating'))).toBe(false);
    expect(matchesPattern(pattern, { ...change('InService'), source: EVENT_SOURCE })).toBe(false);
  });
});

describe('the rules of serverless.yml', () => {
  const rules = rulesOfServerless(readFileSync(new URL('../../serverless.yml', import.meta.url), 'utf8'));
  const routed = (bus: 'project' | 'default', e: BusEvent) => matchingRules(rules, bus, e).map((r) => r.functionKey);

  it('reads every eventBridge rule with a pattern, its handler, bus and on-failure queue', () => {
    expect(rules.find((r) => r.functionKey === 'eventSubmit')).toMatchObject({
      handler: 'functions/handlers/event-submit.handler',
      bus: 'project',
      pattern: { 'detail-type': [DETAIL_TYPES.requested] },
      onFailureQueue: 'InvocationsDeadLetterQueue',
      maximumRetryAttempts: 2,
    });
    expect(rules.find((r) => r.functionKey === 'notify')).toMatchObject({
      handler: 'functions/handlers/notify.handler',
      bus: 'project',
      pattern: { source: [EVENT_SOURCE], 'detail-type': [...NOTIFIED_DETAIL_TYPES] },
      onFailureQueue: 'NotificationsDeadLetterQueue',
    });
    // Schedules (reconcile, sweep) are not routes.
    expect(rules.every((r) => Object.keys(r.pattern).length > 0)).toBe(true);
  });

  it('delivers each event to the function whose pattern matches, and to no other', () => {
    expect(routed('project', event({ source: 'team.app', 'detail-type': DETAIL_TYPES.requested }))).toEqual(['eventSubmit']);
    for (const type of NOTIFIED_DETAIL_TYPES) expect(routed('project', event({ 'detail-type': type }))).toEqual(['notify']);
    expect(routed('project', event({ 'detail-type': DETAIL_TYPES.rejected }))).toEqual([]);
    expect(routed('project', event({ 'detail-type': DETAIL_TYPES.orphan }))).toEqual([]);
    // The same detail-type from another source, or on the default bus, reaches nobody.
    expect(routed('project', event({ source: 'someone.else' }))).toEqual([]);
    expect(routed('default', event())).toEqual([]);
  });

  it('routes a rule added to serverless.yml with no change to the router (a HyperPod state-change rule on the default bus)', () => {
    const yml = `
functions:
  clusterStateChange:
    handler: functions/handlers/cluster-state-change.handler
    destinations:
      onFailure:
        type: sqs
        arn: !GetAtt InvocationsDeadLetterQueue.Arn
    events:
      - eventBridge:
          name: \${self:custom.prefix}-hyperpod-state
          pattern:
            source:
              - aws.sagemaker
            detail-type:
              - SageMaker HyperPod Cluster State Change
            detail:
              ClusterStatus:
                - InService
                - Failed
  reconcile:
    handler: functions/handlers/reconcile.handler
    events:
      - eventBridge:
          schedule: rate(5 minutes)
`;
    const added = rulesOfServerless(yml);
    expect(added).toHaveLength(1);
    const change = event({
      source: 'aws.sagemaker',
      'detail-type': 'SageMaker HyperPod Cluster State Change',
      detail: { ClusterStatus: 'InService' },
    });
    expect(matchingRules(added, 'default', change).map((r) => r.functionKey)).toEqual(['clusterStateChange']);
    expect(matchingRules(added, 'default', { ...change, detail: { ClusterStatus: 'Creating' } })).toEqual([]);
    expect(matchingRules(added, 'project', change)).toEqual([]);
    expect(added[0]).toMatchObject({ bus: 'default', onFailureQueue: 'InvocationsDeadLetterQueue' });
  });
});
