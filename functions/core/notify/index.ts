/**
 * Notifications per request: the request's `notify` targets (at most 5), each a signed webhook or an SNS topic, hear
 * of its Cluster Ready, Cluster Provisioning Failed, Cluster Waiting For Capacity and Cluster Deleted events. The
 * `notify` function is subscribed to those events on the project's bus; it reads the record (the request, `notify`
 * included, is recorded as submitted: a webhook names its secret, never holds it) and delivers to each target.
 *
 * What is here, with no SDK and no network, one module each (addresses.ts, targets.ts, delivery.ts):
 * - the rules of a target, at its pointer: `notifyErrors` (the request's own rules, checked by ../validate/) and
 *   `notifyPolicyErrors` (the deployment's: its secret prefix, its SNS topics, loopback only on the local stack);
 * - which addresses a webhook may reach (`addressKind`): literal hosts at validation, the resolved addresses at send
 *   time (functions/adapters/notify-webhook.ts), so no request can point the function at the instance metadata
 *   service or anything else private;
 * - the delivery: one message per event, sent to every target with in-function retries (jittered, growing backoff) for
 *   what may pass (5xx, 429, timeouts, a refused connection); a target that still fails fails the invocation, so Lambda's
 *   asynchronous retries and then the on-failure destination (a dead-letter queue with an alarm) take over.
 */
export type { NotifyTarget } from '../request';
export * from './addresses';
export * from './delivery';
export * from './targets';
