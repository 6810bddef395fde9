import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes } from '../../src/errors.ts';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import {
  type AwsSecretsManagerServer,
  startAwsSecretsManagerServer,
} from '../../src/testing/aws-secrets-manager-server.ts';
import { clientConfigFor, createdMs, everythingShown, getOptions, rejection, seed, toBase64 } from './_aws-fixture.ts';

const RDS_SECRET = JSON.stringify({
  engine: 'postgres',
  host: 'db.example.invalid',
  port: 5432,
  username: 'app_user',
  password: 'fake-db-password-v1',
  options: { ssl: true },
});

describe('Source: awsSecretsManager, reads through the real SDK', () => {
  let server: AwsSecretsManagerServer;
  let api: { arn: string; versionId: string };
  let rotated: { v1: string; v2: string; pending: string };

  before(async () => {
    server = await startAwsSecretsManagerServer();
    api = seed(server, 'CHANGENOW_API_KEY', 'fake-changenow-key-1');
    const v1 = seed(server, 'TELEGRAM_BOT_API_TOKEN', 'fake-telegram-token-v1').versionId;
    const v2 = String(server.direct('PutSecretValue', { SecretId: 'TELEGRAM_BOT_API_TOKEN', SecretString: 'fake-telegram-token-v2' }).VersionId);
    const pending = String(
      server.direct('PutSecretValue', {
        SecretId: 'TELEGRAM_BOT_API_TOKEN',
        SecretString: 'fake-telegram-token-v3',
        VersionStages: ['AWSPENDING'],
      }).VersionId,
    );
    rotated = { v1, v2, pending };
    seed(server, 'rds/app', RDS_SECRET);
    seed(server, 'SIGNING_SEED', new Uint8Array([0, 1, 2, 250, 255]));
    seed(server, 'PLAIN_TEXT', 'fake-not-json-canary-7731');
    seed(server, 'BINARY_JSON', new TextEncoder().encode('{"token":"fake-binary-json-token"}'));
    seed(server, 'BIG', 'x'.repeat(100));
  });
  after(() => server.close());

  function source(options: Parameters<typeof awsSecretsManager>[0] = {}) {
    return awsSecretsManager({ clientConfig: clientConfigFor(server), ...options });
  }

  it('reads a SecretString by name and reports the VersionId as the version', async () => {
    const s = source();
    assert.deepEqual(await s.get('CHANGENOW_API_KEY', getOptions()), {
      value: 'fake-changenow-key-1',
      version: api.versionId,
      order: createdMs(server, 'CHANGENOW_API_KEY', api.versionId),
    });
    await s.close();
  });

  it('reads by full ARN and by partial ARN through the secretId mapper', async () => {
    const full = source({ secretId: () => api.arn });
    const partial = source({ secretId: () => api.arn.slice(0, -7) });
    assert.equal((await full.get('ANY', getOptions()))?.value, 'fake-changenow-key-1');
    assert.equal((await partial.get('ANY', getOptions()))?.value, 'fake-changenow-key-1');
    await Promise.all([full.close(), partial.close()]);
  });

  it('reads AWSCURRENT by default, and AWSPREVIOUS, AWSPENDING or a pinned VersionId when asked', async () => {
    const read = async (options: Parameters<typeof source>[0]) => {
      const s = source(options);
      const got = await s.get('TELEGRAM_BOT_API_TOKEN', getOptions());
      await s.close();
      return got;
    };
    const order = (v: string) => createdMs(server, 'TELEGRAM_BOT_API_TOKEN', v);
    assert.deepEqual(await read({}), { value: 'fake-telegram-token-v2', version: rotated.v2, order: order(rotated.v2) });
    assert.deepEqual(await read({ versionStage: 'AWSCURRENT' }), { value: 'fake-telegram-token-v2', version: rotated.v2, order: order(rotated.v2) });
    assert.deepEqual(await read({ versionStage: 'AWSPREVIOUS' }), { value: 'fake-telegram-token-v1', version: rotated.v1, order: order(rotated.v1) });
    assert.deepEqual(await read({ versionStage: 'AWSPENDING' }), {
      value: 'fake-telegram-token-v3',
      version: rotated.pending,
      order: order(rotated.pending),
    });
    assert.ok(order(rotated.v1) < order(rotated.v2) && order(rotated.v2) < order(rotated.pending), 'versions order by creation');
    assert.deepEqual(await read({ versionId: rotated.v1 }), { value: 'fake-telegram-token-v1', version: rotated.v1 }, 'a pinned version needs no order');
    assert.deepEqual(await read({ orderByCreatedDate: false }), { value: 'fake-telegram-token-v2', version: rotated.v2 }, 'ordering turned off');
  });

  it('serves a stage move (a rollback) on the next read', async () => {
    const s = source();
    const id = 'ROLLBACK_ME';
    const v1 = seed(server, id, 'fake-rollback-v1').versionId;
    const v2 = String(server.direct('PutSecretValue', { SecretId: id, SecretString: 'fake-rollback-v2' }).VersionId);
    assert.equal((await s.get(id, getOptions()))?.version, v2);
    server.direct('UpdateSecretVersionStage', {
      SecretId: id,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: v1,
      RemoveFromVersionId: v2,
    });
    assert.deepEqual(await s.get(id, getOptions()), { value: 'fake-rollback-v1', version: v1, order: createdMs(server, id, v1) });
    await s.close();
  });

  it('resolves undefined for a missing secret, a missing stage and a missing VersionId', async () => {
    const s = source();
    assert.equal(await s.get('NO_SUCH_SECRET', getOptions()), undefined);
    const pending = source({ versionStage: 'AWSPENDING' });
    assert.equal(await pending.get('CHANGENOW_API_KEY', getOptions()), undefined);
    const pinned = source({ versionId: '00000000-0000-0000-0000-000000000000' });
    assert.equal(await pinned.get('CHANGENOW_API_KEY', getOptions()), undefined);
    await Promise.all([s.close(), pending.close(), pinned.close()]);
  });

  it('reads a SecretBinary as bytes', async () => {
    const s = source();
    const got = await s.get('SIGNING_SEED', getOptions());
    assert.ok(got?.value instanceof Uint8Array);
    assert.equal(toBase64(got.value), toBase64(new Uint8Array([0, 1, 2, 250, 255])));
    await s.close();
  });

  it('picks one field of a JSON secret with jsonKey, for every entry or per entry with select', async () => {
    const password = source({ secretId: () => 'rds/app', jsonKey: 'password' });
    assert.equal((await password.get('DATABASE_PASSWORD', getOptions()))?.value, 'fake-db-password-v1');
    const perEntry = source({
      select: (name) => ({ secretId: name.startsWith('DB_') ? 'rds/app' : 'BINARY_JSON', jsonKey: name.slice(3).toLowerCase() }),
    });
    assert.equal((await perEntry.get('DB_USERNAME', getOptions()))?.value, 'app_user');
    assert.equal((await perEntry.get('DB_PORT', getOptions()))?.value, '5432');
    assert.equal((await perEntry.get('DB_OPTIONS', getOptions()))?.value, '{"ssl":true}');
    assert.equal((await perEntry.get('BJ_TOKEN', getOptions()))?.value, 'fake-binary-json-token');
    await Promise.all([password.close(), perEntry.close()]);
  });

  it('rejects a missing JSON key, or a secret that is not JSON, with a clear error that holds no value', async () => {
    const s = source({ select: (name) => ({ secretId: name, jsonKey: 'password' }) });
    const notJson = await rejection(s.get('CHANGENOW_API_KEY', getOptions()), ErrorCodes.VALUE_REJECTED);
    assert.match(notJson.message, /CHANGENOW_API_KEY.*is not JSON.*jsonKey "password"/);
    const plain = await rejection(s.get('PLAIN_TEXT', getOptions()), ErrorCodes.VALUE_REJECTED);
    assert.doesNotMatch(everythingShown(plain), /canary-7731/);
    const noKey = source({ secretId: () => 'rds/app', jsonKey: 'pasword' });
    const typo = await rejection(noKey.get('DATABASE_PASSWORD', getOptions()), ErrorCodes.VALUE_REJECTED);
    assert.match(typo.message, /has no such key.*"pasword"/);
    assert.doesNotMatch(everythingShown(typo), /fake-db-password|app_user/);
    await Promise.all([s.close(), noKey.close()]);
  });

  it('refuses a value above maxBytes with KS_ERR_VALUE_TOO_LARGE and the size, for strings and bytes', async () => {
    const s = source();
    const big = await rejection(s.get('BIG', getOptions({ maxBytes: 64 })), ErrorCodes.VALUE_TOO_LARGE);
    assert.match(big.message, /100 bytes, above the limit of 64/);
    assert.equal(big.details.sizeBytes, 100);
    await rejection(s.get('SIGNING_SEED', getOptions({ maxBytes: 4 })), ErrorCodes.VALUE_TOO_LARGE);
    assert.equal((await s.get('BIG', getOptions({ maxBytes: 100 })))?.value, 'x'.repeat(100));
    await s.close();
  });

  it('refuses contradictory options at construction and in select', async () => {
    assert.throws(() => awsSecretsManager({ versionStage: 'AWSPREVIOUS', versionId: 'v' }), { code: 'KS_ERR_INVALID_DECLARATION' });
    const s = source({ select: () => ({ secretId: 'rds/app', versionId: 'a', versionStage: 'AWSCURRENT' }) });
    await rejection(s.get('X', getOptions()), ErrorCodes.INVALID_DECLARATION);
    await s.close();
  });
});
