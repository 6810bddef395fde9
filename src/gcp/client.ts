import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { loadOptionalPeer } from '../_optional-peer.ts';

/** The official client's constructor options (apiEndpoint, port, sslCreds, credentials, projectId...). */
export type GcpClientOptions = NonNullable<ConstructorParameters<typeof SecretManagerServiceClient>[0]>;

/**
 * Creates the official Secret Manager client, imported on first use: it is an optional
 * peer dependency, and a missing install is a clear error naming `who` needs it.
 */
export async function newSecretManagerClient(who: string, clientOptions: GcpClientOptions | undefined): Promise<SecretManagerServiceClient> {
  const sdk = await loadOptionalPeer('@google-cloud/secret-manager', who, () => import('@google-cloud/secret-manager'));
  return new sdk.SecretManagerServiceClient(clientOptions ?? {});
}
