/**
 * The local stack's one handler loader: a function's handler is what serverless.yml's `handler:` names
 * (`functions/handlers/tasks/create-cluster.handler`), imported from its TypeScript source on first use, as Lambda
 * loads the deployed bundle. Every way the stack reaches a function (HTTP routes, the queue intake, EventBridge rules,
 * Step Functions tasks, schedules, the plan's Invoke, the reconciler and the sweeper) goes through here. The functions'
 * environment is set before the first load (./environment.ts).
 */
import { readFileSync } from 'node:fs';
import { functionsOfServerless } from './simulators/event-patterns';
import { lambdaContext, type LambdaHandler } from './workflows';

export const SERVERLESS_YML = new URL('../serverless.yml', import.meta.url);

export interface HandlerLoader {
  /** The function keys of serverless.yml. */
  readonly functionKeys: readonly string[];
  /** The module path (from the repository root, no extension) and export serverless.yml names for a function. */
  handlerPath(functionKey: string): { module: string; exportName: string };
  /** The function's handler. */
  handler(functionKey: string): Promise<LambdaHandler>;
  /** The function's module, for another export than the handler (a factory taking the dependencies). */
  module<T>(functionKey: string): Promise<T>;
  /** Loads every function's handler (a missing module or export fails here, at start). */
  preload(): Promise<void>;
  /** Calls a handler as Lambda would, with a context naming `name` (default: the function key). */
  invoke(functionKey: string, event: unknown, options?: { name?: string; handler?: LambdaHandler }): Promise<unknown>;
}

export const createHandlerLoader = (yamlText: string = readFileSync(SERVERLESS_YML, 'utf8')): HandlerLoader => {
  const functions = functionsOfServerless(yamlText);
  const modules = new Map<string, Promise<Record<string, unknown>>>();

  const handlerPath = (functionKey: string) => {
    const handler = functions[functionKey]?.handler;
    if (typeof handler !== 'string') throw new Error(`serverless.yml has no function ${functionKey} with a handler`);
    const dot = handler.lastIndexOf('.');
    return { module: handler.slice(0, dot), exportName: handler.slice(dot + 1) };
  };

  const load = (functionKey: string): Promise<Record<string, unknown>> => {
    const { module } = handlerPath(functionKey);
    let loaded = modules.get(module);
    if (!loaded) {
      loaded = import(new URL(`../${module}.ts`, import.meta.url).href) as Promise<Record<string, unknown>>;
      modules.set(module, loaded);
    }
    return loaded;
  };

  const handler = async (functionKey: string): Promise<LambdaHandler> => {
    const { exportName } = handlerPath(functionKey);
    const exported = (await load(functionKey))[exportName];
    if (typeof exported !== 'function') throw new Error(`${functionKey}: ${handlerPath(functionKey).module} exports no ${exportName}`);
    return exported as LambdaHandler;
  };

  return {
    functionKeys: Object.keys(functions),
    handlerPath,
    handler,
    preload: async () => {
      await Promise.all(Object.keys(functions).map(handler));
    },
    module: async <T>(functionKey: string) => (await load(functionKey)) as T,
    invoke: async (functionKey, event, options = {}) =>
      (options.handler ?? (await handler(functionKey)))(event as never, lambdaContext(options.name ?? functionKey)),
  };
};
