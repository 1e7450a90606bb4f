/** The EventBridge publisher on its SDK client; imported on first use (a chunk of its own in the bundles). */
import { EventBridgeClient, type EventBridgeClientConfig } from '@aws-sdk/client-eventbridge';
import { createEventBridgePublisher } from '../../adapters/eventbridge';

export const eventPublisher = (config: EventBridgeClientConfig = {}) => createEventBridgePublisher(new EventBridgeClient(config));
