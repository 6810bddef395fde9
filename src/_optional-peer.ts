/**
 * One way to load an optional peer dependency (the cloud clients, pg, prom-client, gRPC,
 * OpenTelemetry, google-auth-library): imported on first use, and a missing install is one kind of error,
 * KS_ERR_PEER_MISSING, naming what is missing, what needs it, and the install command.
 */
import { ErrorCodes, KeyshiftError } from './errors.ts';

/** Every optional peer, and the part of keyshift that needs it (keyshift doctor lists these). */
export const OPTIONAL_PEERS: ReadonlyArray<readonly [peer: string, usedBy: string]> = [
  ['@google-cloud/secret-manager', 'the Google Secret Manager source, the rotation store, and the emulator (its protos)'],
  ['@google-cloud/pubsub', 'Pub/Sub pull invalidation, and fleet reports (keyshift/fleet, keyshift fleet)'],
  ['@grpc/grpc-js', 'the Secret Manager emulator'],
  ['@grpc/proto-loader', 'the Secret Manager emulator'],
  ['@aws-sdk/client-secrets-manager', 'the AWS Secrets Manager source and awsRotationStore (aws:// in the CLI)'],
  ['pg', 'the rotating PostgreSQL pool and the pg password rotator'],
  ['prom-client', 'GET /metrics'],
  ['@opentelemetry/api', 'keyshift/opentelemetry'],
  ['google-auth-library', "the push handler's OIDC check (gcpPubSubPushHandler oidc, mode verify)"],
];

/** What the Secret Manager emulator needs: gRPC, and @google-cloud/secret-manager for its protos. */
export const EMULATOR_PEERS: readonly string[] = ['@grpc/grpc-js', '@grpc/proto-loader', '@google-cloud/secret-manager'];

/** The message for a missing optional peer: what, for what, and the command that installs it. */
export function missingPeerMessage(usedBy: string, peers: readonly string[]): string {
  const what = peers.length === 1 ? `the optional peer ${peers[0]}` : `the optional peers ${peers.join(', ')}`;
  return `${usedBy} needs ${what}, which is not installed: npm install ${peers.join(' ')}`;
}

/** True when `error` is Node's "cannot find package `peer`" (ESM import or require.resolve). */
export function isMissingPackage(error: unknown, peer: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = error instanceof Error ? error.message : '';
  return message.includes(`'${peer}'`) || message.includes(`'${peer}/`) || message.includes(`"${peer}"`);
}

/**
 * Runs `load` (an `import()` of the peer, written at the call site so types and bundlers
 * see it). When the package is not installed, throws KS_ERR_PEER_MISSING naming `usedBy`
 * and the install command for `peers` (default: just `peer`); any other failure of the
 * import is rethrown as it is.
 */
export async function loadOptionalPeer<T>(peer: string, usedBy: string, load: () => Promise<T>, peers: readonly string[] = [peer]): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isMissingPackage(error, peer)) throw error;
    throw new KeyshiftError(ErrorCodes.PEER_MISSING, missingPeerMessage(usedBy, peers), { cause: error, details: { peer } });
  }
}
