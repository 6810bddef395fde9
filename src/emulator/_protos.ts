/**
 * Loads the Secret Manager v1 service definition from the protos that ship in
 * @google-cloud/secret-manager (google/api, google/rpc and google/protobuf come
 * from its google-gax). Lazy: the packages are optional peers.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';

const SERVICE = 'google.cloud.secretmanager.v1.SecretManagerService';

let cached: Promise<ServiceDefinition> | undefined;

/** The service definition, loaded once per process. */
export function loadSecretManagerService(): Promise<ServiceDefinition> {
  cached ??= load().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function load(): Promise<ServiceDefinition> {
  const require = createRequire(import.meta.url);
  const clientMain = require.resolve('@google-cloud/secret-manager');
  const protos = join(dirname(clientMain), '..', 'protos');
  const gaxProtos = join(dirname(createRequire(clientMain).resolve('google-gax')), '..', 'protos');
  const loader = await import('@grpc/proto-loader');
  const definition = await loader.load('google/cloud/secretmanager/v1/service.proto', {
    includeDirs: [protos, gaxProtos],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  return definition[SERVICE] as ServiceDefinition;
}
