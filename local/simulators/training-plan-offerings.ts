/**
 * SageMaker SearchTrainingPlanOfferings for the SageMaker simulator (./sagemaker.ts dispatches to it), read-only: it
 * never reserves anything. The answer has the documented shape (API reference SearchTrainingPlanOfferings,
 * TrainingPlanOffering, ReservedCapacityOffering; test/fixtures/providers/aws/search-training-plan-offerings.json):
 * `TrainingPlanOfferings[]` with `TrainingPlanOfferingId`, `TargetResources`, `DurationHours`, `UpfrontFee` (a decimal
 * string), `CurrencyCode`, and one `ReservedCapacityOfferings[]` entry (InstanceType, InstanceCount, AvailabilityZone,
 * StartTime, EndTime; times in epoch seconds, as AWS JSON 1.1 carries them).
 *
 * Assumption (no published example with values): an offering of the simulator starts `startsInHours` after the
 * search's StartTimeAfter (or now), lasts the DurationHours asked (else its own `durationHours`), and costs
 * `usdPerInstanceHour` × instances × hours upfront; one that would end after EndTimeBefore is not offered.
 */
import { createHash } from 'node:crypto';

/** Reserved capacity the simulated region can sell. */
export interface SimTrainingPlanOffering {
  region: string;
  instanceType: string;
  /** At most this many instances in one offering. */
  maxInstances: number;
  availabilityZone: string;
  /** Hours after the search's StartTimeAfter (or now) the capacity is free. */
  startsInHours: number;
  /** The length offered when the search names none. */
  durationHours: number;
  usdPerInstanceHour: number;
}

const HOUR = 3600;

/** The SearchTrainingPlanOfferings answer for `body` in `region`, at `nowMs`. */
export const searchTrainingPlanOfferings = (
  offerings: readonly SimTrainingPlanOffering[],
  body: Record<string, unknown>,
  region: string,
  nowMs: number,
): Record<string, unknown> => {
  const type = typeof body.InstanceType === 'string' ? body.InstanceType : undefined;
  const count = typeof body.InstanceCount === 'number' ? body.InstanceCount : 1;
  const after = typeof body.StartTimeAfter === 'number' ? body.StartTimeAfter : nowMs / 1000;
  const before = typeof body.EndTimeBefore === 'number' ? body.EndTimeBefore : Infinity;
  const asked = typeof body.DurationHours === 'number' ? body.DurationHours : undefined;
  const found = offerings
    .filter((o) => o.region === region && (type === undefined || o.instanceType === type) && o.maxInstances >= count)
    .map((o) => {
      const hours = asked ?? o.durationHours;
      const start = Math.max(after, nowMs / 1000) + o.startsInHours * HOUR;
      const end = start + hours * HOUR;
      const id = `tpo-${createHash('sha256')
        .update(`${region}|${o.instanceType}|${o.availabilityZone}|${count}|${Math.floor(start)}|${hours}`)
        .digest('hex')
        .slice(0, 24)}`;
      return { o, hours, start, end, id };
    })
    .filter(({ end }) => end <= before);
  return {
    TrainingPlanOfferings: found.map(({ o, hours, start, end, id }) => ({
      TrainingPlanOfferingId: id,
      TargetResources: ['hyperpod-cluster'],
      RequestedStartTimeAfter: after,
      ...(Number.isFinite(before) ? { RequestedEndTimeBefore: before } : {}),
      DurationHours: hours,
      DurationMinutes: 0,
      UpfrontFee: (o.usdPerInstanceHour * count * hours).toFixed(2),
      CurrencyCode: 'USD',
      ReservedCapacityOfferings: [
        {
          InstanceType: o.instanceType,
          InstanceCount: count,
          AvailabilityZone: o.availabilityZone,
          DurationHours: hours,
          DurationMinutes: 0,
          StartTime: Math.floor(start),
          EndTime: Math.floor(end),
        },
      ],
    })),
  };
};
