/** Shared set-up for the AWS tests: the loopback endpoint and a real SDK config for it. */
import { strict as assert } from 'node:assert';
import { inspect } from 'node:util';
import { DEFAULT_MAX_VALUE_BYTES } from '../../src/constants.ts';
import { KeyshiftError } from '../../src/errors.ts';
import type { SourceGetOptions } from '../../src/types.ts';
import type { AwsSecretsManagerServer } from '../../src/testing/aws-secrets-manager-server.ts';

// The SDK warns once per process that it will need Node 22 in 2027; it is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** Obviously fake static credentials: the endpoint checks a SigV4 header is present, not its signature. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDLOOPBACKFAKE', secretAccessKey: 'loopback-fake-secret-key' };

export function clientConfigFor(server: AwsSecretsManagerServer) {
  return { endpoint: server.endpoint, region: server.region, credentials: FAKE_CREDENTIALS };
}

export function getOptions(overrides: Partial<SourceGetOptions> = {}): SourceGetOptions {
  return { signal: new AbortController().signal, maxBytes: DEFAULT_MAX_VALUE_BYTES, ...overrides };
}

/** Creates a secret on the endpoint (no network) and returns its ARN and first VersionId. */
export function seed(server: AwsSecretsManagerServer, name: string, value: string | Uint8Array) {
  const input =
    typeof value === 'string' ? { Name: name, SecretString: value } : { Name: name, SecretBinary: toBase64(value) };
  const out = server.direct('CreateSecret', input);
  return { arn: String(out.ARN), versionId: String(out.VersionId) };
}

/** A version's CreatedDate in ms, as the source reports it for `order`. */
export function createdMs(server: AwsSecretsManagerServer, secretId: string, versionId: string): number {
  const { Versions } = server.direct('ListSecretVersionIds', { SecretId: secretId }) as { Versions: { VersionId: string; CreatedDate: number }[] };
  const created = Versions.find((v) => v.VersionId === versionId)?.CreatedDate;
  if (created === undefined) throw new Error(`no version ${versionId} of ${secretId}`);
  return Math.round(created * 1000);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/** Everything an error could show a log: message, details, JSON, inspect, cause chain. */
export function everythingShown(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error; e !== undefined; e = e instanceof Error ? e.cause : undefined) {
    parts.push(inspect(e, { depth: 5, showHidden: true }), e instanceof Error ? String(e.stack) : String(e));
    if (e instanceof KeyshiftError) parts.push(JSON.stringify(e), JSON.stringify(e.details));
  }
  return parts.join('\n');
}

/** Awaits a rejection and checks it is a KeyshiftError with this code; returns it. */
export async function rejection(promise: Promise<unknown>, code: string): Promise<KeyshiftError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyshiftError, `expected a KeyshiftError, got ${inspect(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a rejection with ${code}`);
}

/** Resolves once `check()` holds, polling on the event loop (no fixed sleep). */
export async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 2));
}
