export { type MemoryFault, type MemorySource, type MemorySourceOptions, memorySource } from '../sources/memory.ts';
export { createFakeClock, type FakeClock, flush } from './fake-clock.ts';
export {
  AWS_SECRETS_MANAGER_OPERATIONS,
  type AwsFault,
  type AwsFaultEffect,
  type AwsSecretsManagerOperation,
  type AwsSecretsManagerServer,
  type AwsSecretsManagerServerOptions,
  startAwsSecretsManagerServer,
} from './aws-secrets-manager-server.ts';
