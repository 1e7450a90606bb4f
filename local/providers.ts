/**
 * The providers of the local stack: the SageMaker HyperPod and E2E TIR simulators (./simulators/), or the endpoints
 * the stack was started with (AWS_ENDPOINT_URL_SAGEMAKER, the TIR API root), and the small AWS account of
 * local/account.json the pre-flight plan reads and the HyperPod simulator's capacity comes from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV } from '../functions/contract/environment.js';
import type { AccountFixture } from './simulators/account';
import { startSageMakerSimulator, type ClusterEventRecordDetail, type ClusterStateChangeDetail } from './simulators/sagemaker';
import { startTirSimulator } from './simulators/tir';
import { REGION } from './identity';

/**
 * The small AWS account the pre-flight plan reads locally (quotas, subnets, roles, scripts, EKS, training plans), and
 * the capacity the SageMaker simulator starts with (`capacity`: a few nodes of each big GPU type, per region where a
 * demo needs it; the story of each example is told in the file).
 */
export const ACCOUNT_FIXTURE = JSON.parse(readFileSync(new URL('./account.json', import.meta.url), 'utf8')) as AccountFixture & {
  capacity: { everyRegion: Record<string, number>; regions: Record<string, Record<string, number>> };
};
const SAGEMAKER_CAPACITY = ACCOUNT_FIXTURE.capacity.everyRegion;

export interface ProvidersOptions {
  dataDir: string;
  memory?: boolean;
  timeScale: number;
  readyAfterMs?: number;
  sagemakerTimings?: { deleteAfterMs?: number; rollbackMs?: number; minimumWaitMs?: number; launchAfterMs?: number };
}

export type HyperPodEventSink = (detailType: string, detail: ClusterStateChangeDetail | ClusterEventRecordDetail, region: string) => void;

export interface LocalProviders {
  sagemakerEndpoint: string;
  tirBaseUrl: string;
  /** The TIR simulator, when the stack runs one (its API root and credentials). */
  tirSimulator?: { baseUrl: string; apiKey: string; authToken: string };
  /** Which of the two are the endpoints the stack was started with. */
  external: { sagemaker: boolean; tir: boolean };
  /** Where HyperPod's events go, once the bus is up (until then, nowhere). */
  onHyperPodEvent(sink: HyperPodEventSink): void;
}

/** Starts what is not given; each closer is handed to `defer`. */
export const startProviders = async (
  options: ProvidersOptions,
  defer: (close: () => Promise<void>) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LocalProviders> => {
  const given = { sagemaker: env.AWS_ENDPOINT_URL_SAGEMAKER, tir: env[ENV.tirApiBaseUrl] };
  let sink: HyperPodEventSink = () => undefined;
  const hyperPodEvent: HyperPodEventSink = (detailType, detail, region) => sink(detailType, detail, region);

  let sagemakerEndpoint = given.sagemaker;
  if (!sagemakerEndpoint) {
    // A GPU shortage that clears: ml.p5.48xlarge has 2 nodes, so a create of more is accepted and then rolls back
    // with EC2's insufficient-capacity message (as HyperPod does); once that happens, 2 more nodes arrive a few
    // backoff rounds later (visible in --watch: just enough for the example's 4), and leave again 30 s after.
    const capacityReliefMs = Math.max(500, 5 * 30_000 * options.timeScale);
    let relief: NodeJS.Timeout | undefined;
    // Only in the stack's own region (examples/hyperpod-fallback.json asks another type, short everywhere).
    const relieve = ({ instanceType, region }: { instanceType: string; region: string }) => {
      if (instanceType !== 'ml.p5.48xlarge' || region !== REGION || relief) return;
      relief = setTimeout(() => {
        sim.setCapacity('ml.p5.48xlarge', 4, REGION);
        relief = setTimeout(() => {
          sim.setCapacity('ml.p5.48xlarge', SAGEMAKER_CAPACITY['ml.p5.48xlarge']!, REGION);
          relief = undefined;
        }, 30_000);
      }, capacityReliefMs);
    };
    // Like a real cloud, the simulators keep their clusters across a restart (kill -9 included) unless --memory.
    const sim = await startSageMakerSimulator({
      readyAfterMs: options.readyAfterMs ?? 5000,
      deleteAfterMs: options.sagemakerTimings?.deleteAfterMs ?? 2000,
      ...(options.sagemakerTimings?.rollbackMs !== undefined ? { rollbackMs: options.sagemakerTimings.rollbackMs } : {}),
      ...(options.sagemakerTimings?.minimumWaitMs !== undefined ? { minimumWaitMs: options.sagemakerTimings.minimumWaitMs } : {}),
      ...(options.sagemakerTimings?.launchAfterMs !== undefined ? { launchAfterMs: options.sagemakerTimings.launchAfterMs } : {}),
      capacity: SAGEMAKER_CAPACITY,
      regionCapacity: ACCOUNT_FIXTURE.capacity.regions,
      defaultCapacity: 64,
      onShortage: relieve,
      // HyperPod's state-change events, put on the default bus like the service does (routed once the bus is up).
      onStateChange: (detail, { region }) => hyperPodEvent('SageMaker HyperPod Cluster State Change', detail, region),
      // Continuous mode's cluster events (a group short of capacity), on the same bus.
      onClusterEvent: (detail, { region }) => hyperPodEvent('SageMaker HyperPod Cluster Event', detail, region),
      // What DescribeTrainingPlan answers: the account of local/account.json (the pre-flight plan reads it).
      trainingPlans: ACCOUNT_FIXTURE.trainingPlans ?? [],
      // What SearchTrainingPlanOfferings answers: reserved capacity a long wait is offered (never bought).
      trainingPlanOfferings: ACCOUNT_FIXTURE.trainingPlanOfferings ?? [],
      ...(options.memory ? {} : { stateFile: join(options.dataDir, 'sagemaker-state.json') }),
    });
    // The shortage demo starts over at each start: p5 is short again, whatever a previous run had raised it to.
    sim.setCapacity('ml.p5.48xlarge', SAGEMAKER_CAPACITY['ml.p5.48xlarge']!, REGION);
    defer(() => sim.close());
    defer(async () => clearTimeout(relief));
    sagemakerEndpoint = sim.endpoint;
  }

  let tirBaseUrl = given.tir;
  let tirSimulator: LocalProviders['tirSimulator'];
  if (!tirBaseUrl) {
    const sim = await startTirSimulator({
      readyAfterMs: options.readyAfterMs ?? 5000,
      deleteAfterMs: 2000,
      defaultCapacity: 32,
      // The security groups of the examples (examples/*.json), for the pre-flight plan's security group check.
      securityGroupIds: [3, 301],
      ...(options.memory ? {} : { stateFile: join(options.dataDir, 'tir-state.json') }),
    });
    defer(() => sim.close());
    tirBaseUrl = sim.baseUrl;
    tirSimulator = { baseUrl: sim.baseUrl, apiKey: sim.apiKey, authToken: sim.authToken };
  }

  return {
    sagemakerEndpoint,
    tirBaseUrl,
    ...(tirSimulator ? { tirSimulator } : {}),
    external: { sagemaker: Boolean(given.sagemaker), tir: Boolean(given.tir) },
    onHyperPodEvent: (next) => {
      sink = next;
    },
  };
};
