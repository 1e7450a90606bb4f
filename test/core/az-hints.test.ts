import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decideAfterShortage, parseZoneHint, remainingAfter, type ZoneLookup } from '../../functions/core/az-hints';
import type { Placement } from '../../functions/core/placements';
import { insufficientCapacityMessage } from '../../local/simulators/sagemaker';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/providers/aws/insufficient-capacity-az.json', import.meta.url), 'utf8')) as {
  example: string;
  examples: Array<{ example: string }>;
};

const placement = (region: string, subnet?: string): Placement => ({
  provider: 'sagemaker',
  region,
  cluster: {
    ClusterName: 'c',
    InstanceGroups: [],
    ...(subnet ? { VpcConfig: { SecurityGroupIds: ['sg'], Subnets: [subnet] } } : {}),
  } as unknown as Extract<Placement, { provider: 'sagemaker' }>['cluster'],
});

const zones: Record<string, string> = { 'subnet-a': 'us-east-1a', 'subnet-b': 'us-east-1b', 'subnet-d': 'us-east-1d' };
const lookup: ZoneLookup = { subnetZones: async (_r, ids) => Object.fromEntries(ids.filter((i) => zones[i]).map((i) => [i, zones[i]!])) };

describe('parseZoneHint', () => {
  it('reads the zones of the published EC2 wordings, and the zone that was short', () => {
    expect(parseZoneHint(fixture.example)).toEqual({ zones: ['us-east-1d', 'us-east-1e', 'us-east-1c'], shortIn: 'us-east-1a' });
    expect(parseZoneHint(fixture.examples[0]!.example)).toEqual({
      zones: ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1f'],
      shortIn: 'us-east-1d',
    });
  });

  it('reads the simulator wording the same way', () => {
    expect(parseZoneHint(insufficientCapacityMessage('ml.p5.48xlarge', 'us-west-2'))).toEqual({
      zones: ['us-west-2b', 'us-west-2c'],
      shortIn: 'us-west-2a',
    });
  });

  it('finds no zone in a message that names none, or in no message', () => {
    expect(parseZoneHint('Insufficient capacity.')).toEqual({ zones: [] });
    expect(parseZoneHint(undefined)).toEqual({ zones: [] });
    expect(parseZoneHint('… or choosing somewhere nice.')).toEqual({ zones: [] });
  });
});

describe('decideAfterShortage', () => {
  const placements = [
    placement('us-east-1', 'subnet-a'),
    placement('us-west-2'),
    placement('us-east-1', 'subnet-d'),
    placement('us-east-1', 'subnet-b'),
  ];
  const input = { placements, index: 0, rounds: 0, excluded: [], message: fixture.example, at: '2026-01-01T00:00:00.000Z' };

  it('goes next to the later placement whose subnet lies in a named zone, and resumes the round after it', async () => {
    const first = await decideAfterShortage(lookup, input);
    expect(first.next).toBe(2);
    expect(first.hint?.detour).toEqual({ round: 0, placements: [2], resume: 1 });
    expect(first.why).toContain('trying placement 2 next');
    // Placement 2 is short too (naming no zone): the round goes on at 1, then 3, never 2 again.
    const second = await decideAfterShortage(lookup, { ...input, index: 2, previous: first.hint!, message: 'Insufficient capacity.' });
    expect(second.next).toBe(1);
    expect(remainingAfter(second.hint, 0, 1, placements.length, [])).toEqual([3]);
  });

  it('keeps the order without a lookup, a named zone, or a matching subnet', async () => {
    expect((await decideAfterShortage(undefined, input)).next).toBe(1);
    expect((await decideAfterShortage(lookup, { ...input, message: 'no capacity' })).next).toBe(1);
    const failing: ZoneLookup = { subnetZones: async () => Promise.reject(new Error('denied')) };
    expect((await decideAfterShortage(failing, input)).next).toBe(1);
  });

  it('ends the round after the last placement', async () => {
    expect((await decideAfterShortage(lookup, { ...input, index: 3 })).next).toBeUndefined();
  });
});
