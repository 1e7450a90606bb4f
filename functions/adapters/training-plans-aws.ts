/**
 * SageMaker SearchTrainingPlanOfferings (read-only) as the core's `TrainingPlanOfferings` port (functions/core/offers.ts),
 * for HyperPod clusters (`TargetResources: ['hyperpod-cluster']`). Honours AWS_ENDPOINT_URL_SAGEMAKER (the local
 * stack's simulator). Nothing here buys: CreateTrainingPlan is never called.
 */
import { SageMakerClient, SearchTrainingPlanOfferingsCommand, type ReservedCapacityInstanceType } from '@aws-sdk/client-sagemaker';
import type { TrainingPlanOfferingFound, TrainingPlanOfferings } from '../core/offers';

const CLIENT = { maxAttempts: 2, requestHandler: { requestTimeout: 5000, connectionTimeout: 2000, throwOnRequestTimeout: true } } as const;

export const createAwsTrainingPlanOfferings = (): TrainingPlanOfferings => {
  const clients = new Map<string, SageMakerClient>();
  const client = (region: string): SageMakerClient => {
    let c = clients.get(region);
    if (!c) {
      c = new SageMakerClient({ region, ...CLIENT });
      clients.set(region, c);
    }
    return c;
  };
  return {
    search: async (region, query) => {
      const answer = await client(region).send(
        new SearchTrainingPlanOfferingsCommand({
          InstanceType: query.instanceType as ReservedCapacityInstanceType,
          InstanceCount: query.instanceCount,
          StartTimeAfter: query.startTimeAfter,
          EndTimeBefore: query.endTimeBefore,
          ...(query.durationHours ? { DurationHours: query.durationHours } : {}),
          TargetResources: ['hyperpod-cluster'],
        }),
      );
      const out: TrainingPlanOfferingFound[] = [];
      for (const o of answer.TrainingPlanOfferings ?? []) {
        const reserved = o.ReservedCapacityOfferings?.[0];
        if (!o.TrainingPlanOfferingId) continue;
        const fee = o.UpfrontFee !== undefined ? Number(o.UpfrontFee) : undefined;
        out.push({
          offeringId: o.TrainingPlanOfferingId,
          instanceType: reserved?.InstanceType ?? query.instanceType,
          instanceCount: reserved?.InstanceCount ?? query.instanceCount,
          ...(reserved?.StartTime ? { start: reserved.StartTime.toISOString() } : {}),
          ...(reserved?.EndTime ? { end: reserved.EndTime.toISOString() } : {}),
          durationHours: (o.DurationHours ?? reserved?.DurationHours ?? 0) + (o.DurationMinutes ?? 0) / 60,
          ...(fee !== undefined && Number.isFinite(fee) ? { upfrontFee: fee } : {}),
          ...(o.CurrencyCode ? { currency: o.CurrencyCode } : {}),
          ...(reserved?.AvailabilityZone ? { availabilityZone: reserved.AvailabilityZone } : {}),
        });
      }
      return out;
    },
  };
};
