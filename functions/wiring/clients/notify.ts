/** The notify function's Secrets Manager and SNS adapters on their SDK clients; imported on first use. */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { createSecretSource } from '../../adapters/notify-secrets';
import { createTopicPublisher } from '../../adapters/notify-sns';
import { SDK_CLIENT_DEFAULTS } from '../../platform/config';

export const secretSource = (prefix: string) =>
  createSecretSource({ prefix, client: new SecretsManagerClient({ ...SDK_CLIENT_DEFAULTS }) });

export const topicPublisher = () => createTopicPublisher({ clientFor: (region) => new SNSClient({ ...SDK_CLIENT_DEFAULTS, region }) });
