import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/errors.ts';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import {
  type AwsSecretsManagerServer,
  startAwsSecretsManagerServer,
} from '../../src/testing/aws-secrets-manager-server.ts';
import { clientConfigFor, createdMs, getOptions, rejection, seed } from './_aws-fixture.ts';

const NAMES = Array.from({ length: 45 }, (_, i) => `SERVICE_SECRET_${String(i).padStart(2, '0')}`);

describe('Source: awsSecretsManager.getMany, startup through BatchGetSecretValue', () => {
  let server: AwsSecretsManagerServer;
  const versions = new Map<string, string>();

  before(async () => {
    server = await startAwsSecretsManagerServer();
    for (const name of NAMES) versions.set(name, seed(server, name, `fake-value-of-${name}`).versionId);
    seed(server, 'rds/app', JSON.stringify({ username: 'app_user', password: 'fake-db-password' }));
    seed(server, 'TOO_BIG', 'y'.repeat(200));
  });
  after(() => server.close());

  it('reads 45 entries in 3 calls of at most 20 ids, with the same values and versions as get()', async () => {
    const s = awsSecretsManager({ clientConfig: clientConfigFor(server) });
    server.resetCalls();
    const got = await s.getMany(NAMES, getOptions());
    assert.equal(server.calls.BatchGetSecretValue, 3);
    assert.equal(server.calls.GetSecretValue, 0);
    assert.equal(got.size, NAMES.length);
    for (const name of NAMES) {
      const version = versions.get(name) ?? '';
      assert.deepEqual(got.get(name), { value: `fake-value-of-${name}`, version, order: createdMs(server, name, version) });
      assert.deepEqual(got.get(name), await s.get(name, getOptions()));
    }
    await s.close();
  });

  it('settles not-found as undefined, serves two fields of one secret from one id, and leaves the rest to get()', async () => {
    const s = awsSecretsManager({
      clientConfig: clientConfigFor(server),
      select: (name) => {
        if (name === 'DB_USER') return { secretId: 'rds/app', jsonKey: 'username' };
        if (name === 'DB_PASSWORD') return { secretId: 'rds/app', jsonKey: 'password' };
        if (name === 'PENDING') return { secretId: NAMES[0] ?? '', versionStage: 'AWSPENDING' };
        return { secretId: name };
      },
    });
    server.resetCalls();
    const got = await s.getMany(['DB_USER', 'DB_PASSWORD', 'MISSING', 'PENDING', 'TOO_BIG'], getOptions({ maxBytes: 64 }));
    assert.equal(server.calls.BatchGetSecretValue, 1);
    assert.equal(got.get('DB_USER')?.value, 'app_user');
    assert.equal(got.get('DB_PASSWORD')?.value, 'fake-db-password');
    assert.ok(got.has('MISSING') && got.get('MISSING') === undefined, 'not-found is settled');
    assert.equal(got.has('PENDING'), false, 'another stage is left to get()');
    assert.equal(got.has('TOO_BIG'), false, 'a per-entry failure is left to get(), which names it');
    await rejection(s.get('TOO_BIG', getOptions({ maxBytes: 64 })), ErrorCodes.VALUE_TOO_LARGE);
    await s.close();
  });

  it('matches answers to ids given as full or partial ARNs', async () => {
    const arn = String(server.direct('DescribeSecret', { SecretId: 'rds/app' }).ARN);
    const s = awsSecretsManager({
      clientConfig: clientConfigFor(server),
      select: (name) => ({ secretId: name === 'FULL' ? arn : arn.slice(0, -7), jsonKey: 'username' }),
    });
    const got = await s.getMany(['FULL', 'PARTIAL'], getOptions());
    assert.equal(got.get('FULL')?.value, 'app_user');
    assert.equal(got.get('PARTIAL')?.value, 'app_user');
    await s.close();
  });

  it('rejects with the mapped error when every batch call fails, and keeps the chunks that worked', async () => {
    const s = awsSecretsManager({ clientConfig: clientConfigFor(server) });
    server.inject({ error: 'AccessDeniedException', operation: 'BatchGetSecretValue' });
    const denied = await rejection(s.getMany(NAMES, getOptions()), ErrorCodes.SOURCE_DENIED);
    assert.match(denied.message, /secretsmanager:BatchGetSecretValue and secretsmanager:GetSecretValue/);
    server.clearFaults();
    server.inject({ error: 'ThrottlingException', operation: 'BatchGetSecretValue', times: 1 });
    const partial = await s.getMany(NAMES, getOptions());
    assert.equal(partial.size, NAMES.length - 20, 'one chunk of 20 failed; the names are left to get()');
    await s.close();
  });
});
