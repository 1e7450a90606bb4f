/**
 * The Price List Query API and SearchTrainingPlanOfferings as the simulators speak them, through the real adapters (a
 * SigV4-signed AWS JSON 1.1 call; the SageMaker SDK client), the price cache on dynalite, and the plan's cost lines.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureOfferingsTable } from '../../functions/adapters/offerings-dynamo';
import { createAwsPriceList } from '../../functions/adapters/pricing-aws';
import { createDynamoPriceCache } from '../../functions/adapters/pricing-dynamo';
import { createAwsTrainingPlanOfferings } from '../../functions/adapters/training-plans-aws';
import { planAccepted, type PreflightProbes } from '../../functions/core/plan';
import { createPriceBook } from '../../functions/core/pricing';
import type { ProvisionRequest } from '../../functions/core/request';
import { startAccountSimulator, type AccountSimulator } from '../../local/simulators/account';
import { startSageMakerSimulator, type SageMakerSimulator } from '../../local/simulators/sagemaker';
import { dynamoClient } from '../helpers/dynamo';

const P5 = 'ml.p5.48xlarge';
const credentials = async () => ({ accessKeyId: 'a', secretAccessKey: 's' });
let account: AccountSimulator | undefined;
let sagemaker: SageMakerSimulator | undefined;
afterEach(async () => {
  await account?.close();
  await sagemaker?.close();
  account = undefined;
  sagemaker = undefined;
});

const startAccount = () =>
  startAccountSimulator({
    fixture: {
      regions: {},
      prices: [
        { region: 'us-east-1', instanceType: P5, component: 'Training', usdPerHour: 55.04 },
        { region: 'us-west-2', instanceType: P5, component: 'Training', usdPerHour: 56 },
      ],
    },
  });

describe('GetProducts on the account simulator', () => {
  it('answers the filtered product as a JSON string, read by the adapter over SigV4', async () => {
    account = await startAccount();
    const list = createAwsPriceList({ endpoint: account.endpoints.pricing, credentials });
    expect(await list.onDemandHourly('us-east-1', P5)).toMatchObject({ usdPerHour: 55.04, component: 'Training' });
    expect(await list.onDemandHourly('eu-west-1', P5)).toBeUndefined();
    const call = account.requests.find((r) => r.operation === 'GetProducts');
    expect(call?.region).toBe('us-east-1');
  });

  it('is refused when access is denied, and the price book answers from the offline table, saying so', async () => {
    account = await startAccount();
    account.setFault('GetProducts', 'denied');
    const book = createPriceBook({ live: createAwsPriceList({ endpoint: account.endpoints.pricing, credentials }) });
    const quote = await book.hourly('us-east-1', P5);
    expect(quote?.origin).toBe('fallback-table');
    expect(quote?.source).toContain('ProviderAuthFailedError');
  });

  it('caches a price in the offerings table under its own key, with the TTL attribute', async () => {
    account = await startAccount();
    const client = dynamoClient();
    const tableName = `offerings-${randomUUID()}`;
    await ensureOfferingsTable(client, tableName);
    const cache = createDynamoPriceCache({ client, tableName });
    const book = createPriceBook({ live: createAwsPriceList({ endpoint: account.endpoints.pricing, credentials }), cache });
    const first = await book.hourly('us-east-1', P5);
    const second = await book.hourly('us-east-1', P5);
    expect(second).toEqual(first);
    expect(account.requests.filter((r) => r.operation === 'GetProducts')).toHaveLength(1);
    expect(await cache.get('price#sagemaker#us-east-1#ml.p5.48xlarge', new Date(Date.now() + 2 * 86_400_000))).toBeUndefined();
  });

  it('prices the plan from the API, each line with its source and date', async () => {
    account = await startAccount();
    const probes = {} as PreflightProbes;
    const request = {
      requestId: 'r',
      provider: 'sagemaker',
      region: 'us-east-1',
      deleteAfter: 'PT2H',
      cluster: {
        ClusterName: 'c',
        InstanceGroups: [
          {
            InstanceGroupName: 'g',
            InstanceType: P5,
            InstanceCount: 2,
            LifeCycleConfig: { SourceS3Uri: 's3://b/p/', OnCreate: 'x.sh' },
            ExecutionRole: 'arn:aws:iam::123456789012:role/R',
          },
        ],
      },
    } as unknown as ProvisionRequest;
    const report = await planAccepted(
      {
        probes: new Proxy(probes, { get: () => async () => Promise.reject(new Error('not here')) }),
        defaultRegion: 'us-east-1',
        prices: createPriceBook({ live: createAwsPriceList({ endpoint: account.endpoints.pricing, credentials }) }),
      },
      request,
    );
    const cost = report.placements[0]!.cost;
    expect(cost).toMatchObject({ perHour: 110.08, hours: 2, total: 220.16 });
    expect(cost.lines[0]!.source).toContain('AWS Price List Query API');
    expect(cost.lines[0]!.asOf).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(report.priceOrigin).toBe('price-list-api');
  });
});

describe('SearchTrainingPlanOfferings on the SageMaker simulator', () => {
  const published = JSON.parse(
    readFileSync(new URL('../fixtures/providers/aws/search-training-plan-offerings.json', import.meta.url), 'utf8'),
  ) as { example: { TrainingPlanOfferings: Array<Record<string, unknown>> } };

  it('answers in the documented shape, read by the SDK client, and offers only what fits the count and window', async () => {
    sagemaker = await startSageMakerSimulator({
      trainingPlanOfferings: [
        {
          region: 'us-east-1',
          instanceType: P5,
          maxInstances: 4,
          availabilityZone: 'us-east-1b',
          startsInHours: 2,
          durationHours: 24,
          usdPerInstanceHour: 40,
        },
      ],
    });
    const previous = process.env.AWS_ENDPOINT_URL_SAGEMAKER;
    process.env.AWS_ENDPOINT_URL_SAGEMAKER = sagemaker.endpoint;
    try {
      const search = createAwsTrainingPlanOfferings();
      const now = new Date();
      const window = { startTimeAfter: now, endTimeBefore: new Date(now.getTime() + 3 * 86_400_000), durationHours: 24 };
      const [found] = await search.search('us-east-1', { instanceType: P5, instanceCount: 2, ...window });
      expect(found).toMatchObject({
        instanceType: P5,
        instanceCount: 2,
        availabilityZone: 'us-east-1b',
        durationHours: 24,
        upfrontFee: 1920,
        currency: 'USD',
      });
      expect(Date.parse(found!.start!) - now.getTime()).toBeGreaterThanOrEqual(2 * 3_600_000 - 1000);
      expect(await search.search('us-east-1', { instanceType: P5, instanceCount: 8, ...window })).toEqual([]);
      expect(
        await search.search('us-east-1', {
          instanceType: P5,
          instanceCount: 2,
          ...window,
          endTimeBefore: new Date(now.getTime() + 3_600_000),
        }),
      ).toEqual([]);
      // The wire answer has the members of the documented shape.
      const { searchTrainingPlanOfferings } = await import('../../local/simulators/training-plan-offerings');
      const wire = searchTrainingPlanOfferings(
        [
          {
            region: 'us-east-1',
            instanceType: P5,
            maxInstances: 4,
            availabilityZone: 'us-east-1b',
            startsInHours: 2,
            durationHours: 24,
            usdPerInstanceHour: 40,
          },
        ],
        { InstanceType: P5, InstanceCount: 1, EndTimeBefore: Date.now() / 1000 + 3 * 86_400 },
        'us-east-1',
        Date.now(),
      ) as { TrainingPlanOfferings: Array<Record<string, unknown>> };
      const doc = published.example.TrainingPlanOfferings[0]!;
      expect(Object.keys(wire.TrainingPlanOfferings[0]!).sort()).toEqual(Object.keys(doc).sort());
      const reservedKeys = (o: Record<string, unknown>) => Object.keys((o.ReservedCapacityOfferings as object[])[0]!).sort();
      expect(reservedKeys(wire.TrainingPlanOfferings[0]!)).toEqual(reservedKeys(doc));
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_SAGEMAKER;
      else process.env.AWS_ENDPOINT_URL_SAGEMAKER = previous;
    }
  });
});
