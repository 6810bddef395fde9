/**
 * Loads the Secret Manager v1 service definition from the protos that ship in
 * @google-cloud/secret-manager (google/api, google/rpc and google/protobuf come
 * from its google-gax). Lazy: the packages are optional peers.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { EMULATOR_PEERS, isMissingPackage, loadOptionalPeer, missingPeerMessage } from '../_optional-peer.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

const EMULATOR_USER = 'the Secret Manager emulator';
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
  let clientMain: string;
  try {
    clientMain = require.resolve('@google-cloud/secret-manager');
  } catch (error) {
    if (!isMissingPackage(error, '@google-cloud/secret-manager')) throw error;
    const message = `${missingPeerMessage(EMULATOR_USER, EMULATOR_PEERS)} (@google-cloud/secret-manager for its protos)`;
    throw new KeyshiftError(ErrorCodes.PEER_MISSING, message, { cause: error, details: { peer: '@google-cloud/secret-manager' } });
  }
  const protos = join(dirname(clientMain), '..', 'protos');
  const gaxProtos = join(dirname(createRequire(clientMain).resolve('google-gax')), '..', 'protos');
  const loader = await loadOptionalPeer('@grpc/proto-loader', EMULATOR_USER, () => import('@grpc/proto-loader'), EMULATOR_PEERS);
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
