/**
 * Subnet -> Availability Zone through EC2 DescribeSubnets (read-only), the core's `ZoneLookup` port
 * (functions/core/az-hints.ts). Honours AWS_ENDPOINT_URL_EC2 (the local stack's account simulator).
 */
import { DescribeSubnetsCommand, EC2Client } from '@aws-sdk/client-ec2';
import type { ZoneLookup } from '../core/az-hints';

const CLIENT = { maxAttempts: 2, requestHandler: { requestTimeout: 4000, connectionTimeout: 2000, throwOnRequestTimeout: true } } as const;

export const createAwsZoneLookup = (): ZoneLookup => {
  const clients = new Map<string, EC2Client>();
  const client = (region: string): EC2Client => {
    let c = clients.get(region);
    if (!c) {
      c = new EC2Client({ region, ...CLIENT });
      clients.set(region, c);
    }
    return c;
  };
  return {
    subnetZones: async (region, subnetIds) => {
      if (subnetIds.length === 0) return {};
      const answer = await client(region).send(new DescribeSubnetsCommand({ SubnetIds: [...subnetIds] }));
      const out: Record<string, string> = {};
      for (const s of answer.Subnets ?? []) if (s.SubnetId && s.AvailabilityZone) out[s.SubnetId] = s.AvailabilityZone;
      return out;
    },
  };
};
