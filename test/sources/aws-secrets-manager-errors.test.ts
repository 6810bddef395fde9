import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ErrorCodes } from '../../src/errors.ts';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import {
  type AwsFault,
  type AwsSecretsManagerServer,
  startAwsSecretsManagerServer,
} from '../../src/testing/aws-secrets-manager-server.ts';
import { clientConfigFor, everythingShown, getOptions, rejection, seed, until } from './_aws-fixture.ts';

/** What a real AccessDenied message looks like: it names the principal. It must never be forwarded. */
const SDK_MESSAGE = 'User: arn:aws:iam::123456789012:user/canary-principal-5521 is not authorized';

describe('Source: awsSecretsManager, failures as an operator expects them', () => {
  let server: AwsSecretsManagerServer;
  let source: ReturnType<typeof awsSecretsManager>;

  before(async () => {
    server = await startAwsSecretsManagerServer();
    seed(server, 'CHANGENOW_API_KEY', 'fake-changenow-key-canary-0042');
    source = awsSecretsManager({ clientConfig: clientConfigFor(server) });
  });
  after(async () => {
    await source.close();
    await server.close();
  });

  async function failOnce(fault: AwsFault, code: string) {
    server.inject({ times: 1, message: SDK_MESSAGE, ...fault } as AwsFault);
    const error = await rejection(source.get('CHANGENOW_API_KEY', getOptions()), code);
    const shown = everythingShown(error);
    assert.doesNotMatch(shown, /canary-principal-5521|canary-0042/, 'neither the SDK message nor the value is shown');
    assert.equal(error.entry, 'CHANGENOW_API_KEY');
    assert.equal(error.details.secretId, 'CHANGENOW_API_KEY');
    return error;
  }

  it('maps AccessDeniedException to KS_ERR_SOURCE_DENIED naming the SecretId, the IAM action and KMS', async () => {
    const error = await failOnce({ error: 'AccessDeniedException' }, ErrorCodes.SOURCE_DENIED);
    assert.match(error.message, /secret CHANGENOW_API_KEY/);
    assert.match(error.message, /secretsmanager:GetSecretValue/);
    assert.match(error.message, /KMS key policy/);
    assert.equal(error.details.awsErrorType, 'AccessDeniedException');
    assert.equal(error.details.httpStatus, 400);
    assert.equal(typeof error.details.requestId, 'string');
    assert.ok(error.cause instanceof Error && error.cause.name === 'AccessDeniedException');
  });

  it('maps DecryptionFailure to KS_ERR_SOURCE_DENIED naming the KMS key', async () => {
    const error = await failOnce({ error: 'DecryptionFailure' }, ErrorCodes.SOURCE_DENIED);
    assert.match(error.message, /KMS key.*kms:Decrypt/);
  });

  it('maps ThrottlingException and TooManyRequestsException to KS_ERR_SOURCE_THROTTLED, keeping Retry-After', async () => {
    const error = await failOnce({ error: 'ThrottlingException', retryAfterSeconds: 2 }, ErrorCodes.SOURCE_THROTTLED);
    assert.equal(error.details.retryAfterMs, 2000);
    const other = await failOnce({ error: 'TooManyRequestsException', status: 429 }, ErrorCodes.SOURCE_THROTTLED);
    assert.equal(other.details.retryAfterMs, undefined);
  });

  it('maps InternalServiceError, a 503 and a dropped connection to KS_ERR_SOURCE_UNAVAILABLE', async () => {
    await failOnce({ error: 'InternalServiceError' }, ErrorCodes.SOURCE_UNAVAILABLE);
    const unavailable = await failOnce({ error: 'ServiceUnavailable', status: 503 }, ErrorCodes.SOURCE_UNAVAILABLE);
    assert.equal(unavailable.details.httpStatus, 503);
    const reset = await failOnce({ reset: true }, ErrorCodes.SOURCE_UNAVAILABLE);
    assert.match(reset.message, /could not reach the endpoint/);
  });

  it('maps a refused connection to KS_ERR_SOURCE_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    assert.ok(address && typeof address === 'object');
    await new Promise((resolve) => closed.close(resolve));
    const dead = awsSecretsManager({ clientConfig: { ...clientConfigFor(server), endpoint: `http://127.0.0.1:${address.port}` } });
    const error = await rejection(dead.get('CHANGENOW_API_KEY', getOptions()), ErrorCodes.SOURCE_UNAVAILABLE);
    assert.equal(error.details.errorCode, 'ECONNREFUSED');
    await dead.close();
  });

  it('maps InvalidRequestException (scheduled for deletion) to KS_ERR_VERSION_DISABLED', async () => {
    await failOnce({ error: 'InvalidRequestException' }, ErrorCodes.VERSION_DISABLED);
  });

  it('maps refused credentials to KS_ERR_SOURCE_DENIED', async () => {
    const error = await failOnce({ error: 'UnrecognizedClientException' }, ErrorCodes.SOURCE_DENIED);
    assert.match(error.message, /credentials/);
  });

  it('maps an abort (deadline or close) to KS_ERR_SOURCE_TIMEOUT and stops waiting at once', async () => {
    server.inject({ hang: true, times: 1 });
    const controller = new AbortController();
    const before = server.calls.GetSecretValue;
    const pending = source.get('CHANGENOW_API_KEY', getOptions({ signal: controller.signal }));
    await until(() => server.calls.GetSecretValue === before + 1);
    controller.abort();
    const error = await rejection(pending, ErrorCodes.SOURCE_TIMEOUT);
    assert.match(error.message, /aborted/);
    const already = server.calls.GetSecretValue;
    await rejection(source.get('CHANGENOW_API_KEY', getOptions({ signal: AbortSignal.abort() })), ErrorCodes.SOURCE_TIMEOUT);
    assert.equal(server.calls.GetSecretValue, already, 'a pre-aborted call never reaches the store');
  });

  it('makes exactly one store call per get: the SDK retries are off, also on a client given by the caller', async () => {
    const given = new SecretsManagerClient({ ...clientConfigFor(server), maxAttempts: 5 });
    const withGiven = awsSecretsManager({ client: given });
    for (const s of [source, withGiven]) {
      for (const fault of [{ error: 'InternalServiceError' }, { error: 'ThrottlingException' }, { reset: true }] as const) {
        server.inject({ ...fault, times: 1 });
        const before = server.calls.GetSecretValue;
        await assert.rejects(s.get('CHANGENOW_API_KEY', getOptions()));
        assert.equal(server.calls.GetSecretValue - before, 1, `${JSON.stringify(fault)} was retried`);
      }
    }
    await withGiven.close();
    assert.equal((await withGiven.get('CHANGENOW_API_KEY', getOptions()).catch((e) => e.code)), ErrorCodes.CLOSED);
    const stillOpen = awsSecretsManager({ client: given });
    assert.equal((await stillOpen.get('CHANGENOW_API_KEY', getOptions()))?.value, 'fake-changenow-key-canary-0042');
    given.destroy();
  });

  it('refuses both client and clientConfig', () => {
    const given = new SecretsManagerClient(clientConfigFor(server));
    assert.throws(() => awsSecretsManager({ client: given, clientConfig: {} }), { code: 'KS_ERR_INVALID_DECLARATION' });
    given.destroy();
  });
});
