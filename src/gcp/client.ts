import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

/** The official client's constructor options (apiEndpoint, port, sslCreds, credentials, projectId...). */
export type GcpClientOptions = NonNullable<ConstructorParameters<typeof SecretManagerServiceClient>[0]>;

/**
 * Creates the official Secret Manager client, imported on first use: it is an optional
 * peer dependency, and a missing install is a clear error naming `who` needs it.
 */
export async function newSecretManagerClient(who: string, clientOptions: GcpClientOptions | undefined): Promise<SecretManagerServiceClient> {
  let sdk: typeof import('@google-cloud/secret-manager');
  try {
    sdk = await import('@google-cloud/secret-manager');
  } catch (error) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${who} needs the optional peer @google-cloud/secret-manager: npm install @google-cloud/secret-manager`, {
      cause: error,
    });
  }
  return new sdk.SecretManagerServiceClient(clientOptions ?? {});
}
