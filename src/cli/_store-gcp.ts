/**
 * Google Secret Manager as a CLI store, through gcpRotationStore (the official client):
 * the same mapping the staged rotation uses, the secret's etag as its lock. With an
 * endpoint (an emulator) the client talks plaintext gRPC without credentials; without
 * one, the client's Application Default Credentials.
 */
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { type GcpClientOptions, newSecretManagerClient } from '../gcp/client.ts';
import { gcpRotationStore } from '../rotation/staged/gcp-rotation-store.ts';
import { loadOptionalPeer } from '../_optional-peer.ts';
import { UsageError } from './_errors.ts';
import type { CliStore } from './_cli-store.ts';

async function emulatorOptions(endpoint: string, project: string): Promise<GcpClientOptions> {
  const match = /^([^:/\s]+|\[[0-9a-fA-F:]+\]):([0-9]{1,5})$/.exec(endpoint);
  if (match === null) throw new UsageError('a Secret Manager endpoint is HOST:PORT (plaintext, an emulator)');
  const grpc = await loadOptionalPeer('@grpc/grpc-js', 'a --store gcp:// with --endpoint (an emulator)', () => import('@grpc/grpc-js'));
  // projectId given: the client never probes the metadata server for one.
  return { apiEndpoint: match[1]!, port: Number(match[2]), sslCreds: grpc.credentials.createInsecure(), universeDomain: 'googleapis.com', projectId: project };
}

/** Google's credentials, checked before any call: their absence is a clear error, not a failure deep in the client. */
async function checkCredentials(client: SecretManagerServiceClient, project: string): Promise<void> {
  try {
    await client.auth.getClient();
  } catch (error) {
    throw new KeyshiftError(
      ErrorCodes.SOURCE_DENIED,
      `Secret Manager gcp://${project}: no Google credentials found (run gcloud auth application-default login, or set GOOGLE_APPLICATION_CREDENTIALS); for an emulator give --endpoint HOST:PORT or SECRET_MANAGER_EMULATOR_HOST`,
      { cause: new Error(error instanceof Error ? error.name : 'credentials') },
    );
  }
}

export async function openGcpCliStore(project: string, endpoint: string | undefined): Promise<CliStore> {
  const clientOptions = endpoint === undefined ? { projectId: project } : await emulatorOptions(endpoint, project);
  const client = await newSecretManagerClient('keyshift --store gcp://', clientOptions);
  if (endpoint === undefined) {
    try {
      await checkCredentials(client, project);
    } catch (error) {
      await client.close();
      throw error;
    }
  }
  const store = gcpRotationStore({ project, client });
  return {
    kind: 'gcp',
    where: `gcp://${project}`,
    async put(name, value, options = {}) {
      try {
        return await store.put(name, value, options);
      } catch (error) {
        // As the local store: the first put makes the secret (never when --if-latest expects versions).
        const missing = error instanceof KeyshiftError && error.code === ErrorCodes.SOURCE_NOT_FOUND;
        if (!missing || (options.ifLatest ?? 0) !== 0) throw error;
        try {
          await store.createSecret(name);
        } catch (created) {
          if (!(created instanceof KeyshiftError && created.code === ErrorCodes.CONFLICT)) throw created;
        }
        return store.put(name, value, options);
      }
    },
    access: (name, version) => store.access(name, version),
    versions: (name) => store.versions(name),
    list: () => store.list(),
    getSecret: (name) => store.getSecret(name),
    enableVersion: (name, version) => store.enableVersion(name, version),
    disableVersion: (name, version) => store.disableVersion(name, version),
    destroyVersion: (name, version) => store.destroyVersion(name, version),
    rotation: store,
    async close() {
      await store.close();
      await client.close();
    },
  };
}
