/** This part's defaults and limits. */
export {
  DEFAULT_EMULATOR_PORT,
  DEFAULT_EMULATOR_PROJECT,
  EMULATOR_MIN_ROTATION_PERIOD_MS,
} from '../constants.ts';
export { crc32c } from '../gcp/crc32c.ts';
export { type FaultCode, FaultInjector, type FaultRule, type FaultTarget } from './fault-injection.ts';
export { PubSubTopicPublisher, type PubSubTopicOptions, type TopicFailure } from './pubsub-topic-publisher.ts';
export {
  type PushFailure,
  type PushMessage,
  PushPublisher,
  type PushPublisherOptions,
  type PushSubscriptionOptions,
  type SecretEventType,
  type SecretManagerEvent,
  toPushMessage,
  type VersionEventType,
} from './push-publisher.ts';
export {
  createSecretManagerService,
  type EmulatorStore,
  type SecretManagerServiceOptions,
  SERVICE_METHODS,
  type ServiceMethod,
} from './secret-manager-service.ts';
export { type Emulator, type EmulatorClientOptions, type StartEmulatorOptions, startEmulator } from './start-emulator.ts';
