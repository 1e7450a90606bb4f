/**
 * The `Planner` port (functions/core/plan.ts) over a synchronous Lambda Invoke of the plan function, which alone holds
 * the plan's read permissions (Service Quotas, EC2, S3, IAM, EKS, SageMaker reads, the TIR secret). The submit
 * functions hold only lambda:InvokeFunction on it.
 *
 * The payload is `{ request }` (the request as submit accepted it); the answer `{ report }`, or `{ invalid: errors }`
 * when the plan function's own validation refused it. A function error or an unreadable answer throws
 * PlanUnavailableError (the caller decides: the submit path goes on without a plan, the dry run answers 503).
 */
import { InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { PlanUnavailableError, RequestValidationError } from '../core/errors';
import type { PlanAnswer, PlanReport, Planner } from '../core/plan';
import type { ProvisionRequest } from '../core/request';
import { logger } from '../platform/observability';

export interface LambdaPlannerOptions {
  /** The plan function's name or ARN, asked for when first needed. */
  functionName: string | (() => string);
  client?: LambdaClient;
}

export const createLambdaPlanner = (options: LambdaPlannerOptions): Planner => {
  // The plan skips each check after 5 s and runs them concurrently, so it answers in about 5 s at worst (plus a cold
  // start): 8 s leaves httpSubmit (10 s) the time to answer either way.
  const client =
    options.client ??
    new LambdaClient({ maxAttempts: 1, requestHandler: { requestTimeout: 8000, connectionTimeout: 3000, throwOnRequestTimeout: true } });
  return {
    async plan(request: ProvisionRequest): Promise<PlanReport> {
      const FunctionName = typeof options.functionName === 'function' ? options.functionName() : options.functionName;
      const started = Date.now();
      let out: InvokeCommandOutput;
      try {
        out = await client.send(
          new InvokeCommand({ FunctionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify({ request })) }),
        );
      } catch (err) {
        logger.warn('plan function not reached', { error: { name: (err as Error).name }, durationMs: Date.now() - started });
        throw new PlanUnavailableError(`the plan function could not be invoked (${(err as Error).name})`, { cause: err });
      }
      let answer: PlanAnswer | undefined;
      try {
        answer = JSON.parse(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')) as PlanAnswer;
      } catch {
        answer = undefined;
      }
      if (out.FunctionError || !answer || typeof answer !== 'object') {
        logger.warn('plan function failed', { functionError: out.FunctionError, durationMs: Date.now() - started });
        throw new PlanUnavailableError(`the plan function failed (${out.FunctionError ?? 'unreadable answer'})`);
      }
      if ('invalid' in answer) throw new RequestValidationError(answer.invalid);
      logger.info('plan received', { ok: answer.report.ok, ...answer.report.summary, durationMs: Date.now() - started });
      return answer.report;
    },
  };
};
