/**
 * List prices the cost column uses: US East (N. Virginia), on-demand, without free tiers, as published on the AWS
 * pricing pages (aws.amazon.com/step-functions/pricing, /lambda/pricing, /dynamodb/pricing/on-demand,
 * /eventbridge/pricing), read on 2026-11-29.
 */
export const PRICES = {
  region: 'us-east-1',
  takenOn: '2026-11-29',
  /** Step Functions Standard: $0.025 per 1,000 state transitions. */
  stateTransition: 0.025 / 1000,
  /** Lambda: $0.20 per million requests. */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda on arm64 (serverless.yml: architecture arm64), first tier: $0.0000133334 per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** DynamoDB on-demand: $0.625 per million write request units, $0.125 per million read request units. */
  writeRequestUnit: 0.625 / 1e6,
  readRequestUnit: 0.125 / 1e6,
  /** EventBridge custom events: $1.00 per million. */
  event: 1 / 1e6,
} as const;

/** serverless.yml: provider.memorySize (no task function overrides it). */
export const TASK_MEMORY_MB = 512;

/**
 * The billed duration of a task invocation is not measurable in virtual time; it is estimated from the calls it made:
 * a warm start and the code (30 ms), each DynamoDB request (8 ms), each provider API call (150 ms).
 */
export const LAMBDA_MS = { base: 30, dynamo: 8, provider: 150 } as const;
