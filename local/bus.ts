/**
 * The local stack's events: the EventBridge simulator, every event appended to $DATA_DIR/events.ndjson and routed to
 * every function whose serverless.yml rule pattern matches it, on the bus the rule is on (./simulators/event-patterns.ts),
 * invoked asynchronously as Lambda does, retries and on-failure destination included (./lambda-async.ts); what no retry
 * delivered is kept in $DATA_DIR/dead-letters.ndjson. HyperPod's events are put on the default bus through the SDK.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventEntry } from '../functions/core/events';
import { createAsyncInvoker, type DestinationRecord } from './lambda-async';
import type { HandlerLoader } from './handlers';
import { ACCOUNT, REGION, functionArn } from './identity';
import type { HyperPodEventSink } from './providers';
import { startEventBridgeSimulator, type EventBridgeSimulator, type PutEventsEntry } from './simulators/eventbridge';
import { matchingRules, rulesOfServerless, type BusEvent, type FunctionRule } from './simulators/event-patterns';

export type BusEntry = Omit<PutEventsEntry, 'Time'> & { Time?: string };

export interface LocalBus {
  simulator: EventBridgeSimulator;
  eventsFile: string;
  /** Every message an on-failure destination received. */
  deadLetters: Array<{ queue: string; record: DestinationRecord }>;
  /** What events:putEvents tasks put: appended and routed like a PutEvents. */
  publish(entries: EventEntry[]): Promise<void>;
  /** The lines of the events file from `after` on, and how many there are. */
  eventsAfter(after: number): { events: unknown[]; next: number };
  /** HyperPod's events, put on the default bus when their region is wired to it (`wired`). */
  hyperPodEvents(wired: readonly string[]): HyperPodEventSink;
}

export interface BusOptions {
  dataDir: string;
  /** The project bus's name. */
  busName: string;
  timeScale: number;
  serverlessYml: string;
  loader: HandlerLoader;
  log: (line: string) => void;
  defer: (close: () => Promise<void>) => void;
}

export const startBus = async (options: BusOptions): Promise<LocalBus> => {
  const { log, busName, loader } = options;
  const eventsFile = join(options.dataDir, 'events.ndjson');
  const appendEvent = (entry: BusEntry) => {
    const line = {
      Source: entry.Source,
      DetailType: entry.DetailType,
      Detail: entry.Detail,
      EventBusName: entry.EventBusName,
      Time: entry.Time ?? new Date().toISOString(),
    };
    appendFileSync(eventsFile, `${JSON.stringify(line)}\n`);
    log(`event  ${entry.DetailType}  ${String((entry.Detail as { requestId?: string }).requestId ?? '')}`);
  };

  // The EventBridge rules of serverless.yml (every function's eventBridge events with a pattern), routed as deployed.
  const rules = rulesOfServerless(options.serverlessYml);
  const deadLetters: LocalBus['deadLetters'] = [];
  const deadLettersFile = join(options.dataDir, 'dead-letters.ndjson');
  const lambdaAsync = createAsyncInvoker({
    timeScale: options.timeScale,
    log,
    onDeadLetter: (queue, record) => {
      deadLetters.push({ queue, record });
      appendFileSync(deadLettersFile, `${JSON.stringify({ queue, record })}\n`);
      log(`dead-letter  ${queue}  ${record.requestContext.functionArn}: ${record.responsePayload.errorType}`);
    },
  });
  options.defer(async () => lambdaAsync.close());
  const busOf = (name: string): FunctionRule['bus'] | undefined =>
    name === '' || name === 'default' || name.endsWith(':event-bus/default')
      ? 'default'
      : name === busName || name.endsWith(`:event-bus/${busName}`)
        ? 'project'
        : undefined;
  const route = (entry: BusEntry) => {
    const onBus = busOf(entry.EventBusName ?? 'default');
    if (!onBus) return;
    const event: BusEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: ACCOUNT,
      time: (entry.Time ?? new Date().toISOString()).replace(/\.\d{3}Z$/, 'Z'),
      region: REGION,
      resources: [],
      detail: entry.Detail,
    };
    for (const rule of matchingRules(rules, onBus, event))
      lambdaAsync.invoke(
        {
          functionKey: rule.functionKey,
          functionArn: functionArn(rule.functionKey),
          maximumRetryAttempts: rule.maximumRetryAttempts,
          ...(rule.onFailureQueue ? { onFailureQueue: rule.onFailureQueue } : {}),
          call: (e) => loader.invoke(rule.functionKey, e),
        },
        event,
      );
  };
  const simulator = await startEventBridgeSimulator({
    onEvent: (entry) => {
      appendEvent(entry);
      route(entry);
    },
  });
  options.defer(() => simulator.close());

  return {
    simulator,
    eventsFile,
    deadLetters,
    publish: async (entries) => {
      for (const e of entries) {
        appendEvent(e);
        route(e);
      }
    },
    eventsAfter: (after) => {
      let lines: string[] = [];
      try {
        lines = readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean);
      } catch {
        // no event yet
      }
      return { events: lines.slice(after).map((l) => JSON.parse(l) as unknown), next: lines.length };
    },
    hyperPodEvents: (wired) => {
      // Made once the bus's endpoint is in the environment (AWS_ENDPOINT_URL_EVENTBRIDGE).
      const events = new EventBridgeClient({});
      return (detailType, detail, region) => {
        if (!wired.includes(region)) return;
        events
          .send(new PutEventsCommand({ Entries: [{ Source: 'aws.sagemaker', DetailType: detailType, Detail: JSON.stringify(detail) }] }))
          .catch((err: unknown) => log(`hyperpod event not put: ${(err as Error).message}`));
      };
    },
  };
};
