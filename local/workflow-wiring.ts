/**
 * The workflows on the local stack: the shipped state machines (./workflows.ts), each Lambda task bound to the function
 * the ASL names, loaded through the handler loader, their events:putEvents tasks put on the local bus, and the Step
 * Functions simulator the functions start and wake them through.
 */
import { deleteClusterAsl, lambdaFunctionKey, provisionClusterAsl } from '../statemachines/definitions.js';
import type { LocalBus } from './bus';
import type { HandlerLoader } from './handlers';
import { startStepFunctionsSimulator } from './simulators/step-functions';
import { LocalWorkflows, type LambdaHandler } from './workflows';

/** The functions the state machines' Lambda tasks name. */
export const taskFunctionKeys = (): string[] => {
  const keys = new Set<string>();
  for (const definition of [provisionClusterAsl(), deleteClusterAsl()] as Array<{ States: Record<string, unknown> }>)
    for (const state of Object.values(definition.States)) {
      const key = lambdaFunctionKey(state);
      if (key) keys.add(key);
    }
  return [...keys];
};

export const startWorkflows = async (options: {
  loader: HandlerLoader;
  bus: Pick<LocalBus, 'publish'>;
  timeScale: number;
  defer: (close: () => Promise<void>) => void;
}): Promise<{ workflows: LocalWorkflows; endpoint: string }> => {
  const handlers: Record<string, LambdaHandler> = {};
  for (const key of taskFunctionKeys()) handlers[key] = await options.loader.handler(key);
  const workflows = new LocalWorkflows({
    handlers,
    publish: options.bus.publish,
    timeScale: options.timeScale,
    // The memory of short offerings is real time in the tasks' code: scale its cap like every other wait.
    settings: { shortOfferingSeconds: 600 * options.timeScale },
  });
  options.defer(() => workflows.stopAll());
  const sfn = await startStepFunctionsSimulator(workflows);
  options.defer(() => sfn.close());
  return { workflows, endpoint: sfn.endpoint };
};
