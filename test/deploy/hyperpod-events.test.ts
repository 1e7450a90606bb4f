/**
 * HyperPod's events reach the clusterEvent function from every region the deployment may create clusters in: the
 * packaged rules of the home region (state changes and Continuous mode's cluster events), the pollCluster setting that
 * names the regions wired, and the forwarding template deployed in each other region (deploy/hyperpod-event-forwarder.yml).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { matchesPattern, type BusEvent } from '../../local/simulators/event-patterns';
import { REPO_ROOT, sharedPackage, type CfnResource, type CfnTemplate, type PackagedService } from '../helpers/package';

const fixture = (name: string) =>
  JSON.parse(readFileSync(`${REPO_ROOT}/test/fixtures/providers/hyperpod/${name}`, 'utf8')) as { example: BusEvent };

const getAtt = (value: unknown): string | undefined => (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];

describe('HyperPod events, packaged by osls', () => {
  let packaged: PackagedService;
  let template: CfnTemplate;
  let clusterEventId: string;

  beforeAll(async () => {
    packaged = await sharedPackage();
    template = packaged.template;
    clusterEventId = Object.entries(template.Resources).find(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.FunctionName).endsWith('-clusterEvent'),
    )![0];
  }, 240_000);

  afterAll(async () => {
    await packaged?.cleanup();
  });

  const rulesToClusterEvent = (): CfnResource[] =>
    Object.values(template.Resources).filter(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        ((r.Properties?.Targets as Array<{ Arn: unknown }> | undefined) ?? []).some((t) => getAtt(t.Arn) === clusterEventId),
    );

  it('routes the published state change and cluster event examples to clusterEvent, on the default bus, with retries and a DLQ', () => {
    const rules = rulesToClusterEvent();
    expect(rules).toHaveLength(2);
    for (const rule of rules) {
      expect(rule.Properties?.EventBusName).toBeUndefined();
      const [target] = rule.Properties?.Targets as Array<Record<string, any>>;
      expect(target!.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 600, MaximumRetryAttempts: 3 });
      expect(target!.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
    }
    const patterns = rules.map((r) => r.Properties?.EventPattern as Record<string, unknown>);
    for (const name of ['state-change.event.json', 'cluster-event.event.json']) {
      const { example } = fixture(name);
      expect(patterns.filter((p) => matchesPattern(p as never, example))).toHaveLength(1);
    }
  });

  it("tells pollCluster which regions' events are wired (the hyperPodEventRegions param; '' = the home region)", () => {
    const poll = Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.FunctionName).endsWith('-pollCluster'),
    )!;
    expect(poll.Properties?.Environment?.Variables).toHaveProperty('HYPERPOD_EVENT_REGIONS', '');
  });
});

describe('deploy/hyperpod-event-forwarder.yml', () => {
  const template = parseYaml(readFileSync(`${REPO_ROOT}/deploy/hyperpod-event-forwarder.yml`, 'utf8')) as CfnTemplate & {
    Parameters: Record<string, { Type: string; AllowedPattern?: string }>;
  };
  const rule = template.Resources.ForwardRule!;
  const homeBus = { 'Fn::Sub': 'arn:${AWS::Partition}:events:${HomeRegion}:${AWS::AccountId}:event-bus/default' };

  it("forwards both HyperPod detail-types of the region's default bus, and nothing else, to the home region's default bus", () => {
    expect(rule.Type).toBe('AWS::Events::Rule');
    expect(rule.Properties?.EventBusName).toBe('default');
    const pattern = rule.Properties?.EventPattern;
    expect(matchesPattern(pattern, fixture('state-change.event.json').example)).toBe(true);
    expect(matchesPattern(pattern, fixture('cluster-event.event.json').example)).toBe(true);
    const other = { ...fixture('state-change.event.json').example, 'detail-type': 'SageMaker Training Job State Change' };
    expect(matchesPattern(pattern, other)).toBe(false);
    const [target] = rule.Properties?.Targets as Array<Record<string, unknown>>;
    expect(target!.Arn).toEqual(homeBus);
    expect(getAtt(target!.RoleArn)).toBe('ForwardRole');
  });

  it('gives the rule a role that EventBridge of this account alone may assume, allowed to put events on the home bus only', () => {
    const role = template.Resources.ForwardRole!;
    const [trust] = role.Properties?.AssumeRolePolicyDocument.Statement as Array<Record<string, any>>;
    expect(trust).toMatchObject({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' });
    expect(trust!.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    const statements = (role.Properties?.Policies as Array<{ PolicyDocument: { Statement: unknown[] } }>).flatMap(
      (p) => p.PolicyDocument.Statement,
    );
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: homeBus }]);
  });

  it('takes the home region as a parameter that must look like a region', () => {
    const pattern = new RegExp(`^${template.Parameters.HomeRegion!.AllowedPattern}$`);
    expect(pattern.test('us-east-1')).toBe(true);
    expect(pattern.test('ap-southeast-2')).toBe(true);
    expect(pattern.test('us-east-1; rm')).toBe(false);
  });
});
