/**
 * Default dependencies of the Lambda handlers, split by what they pull in, so each function's bundle carries only the
 * SDK clients it uses. Everything is built once per process, on first use (importing a handler in a test needs no
 * deployment environment); tests pass their own to the handlers' factories.
 */
import { ENV } from '../contract/environment.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoStore } from '../adapters/dynamo-store';
import { SDK_CLIENT_DEFAULTS, once, optional, required } from '../platform/config';

/** `ENV.cursorKey`: the secret list cursors are sealed with, shared by every instance (a generated secret when deployed). */
export const clusterStore = once(() => {
  const cursorKey = optional(ENV.cursorKey, '');
  return createDynamoStore({
    client: new DynamoDBClient({ ...SDK_CLIENT_DEFAULTS }),
    tableName: required(ENV.clustersTable),
    ...(cursorKey ? { cursorKey } : {}),
  });
});
