/** The AWS source under the real manager: typed reads, rotation by PutSecretValue and stage moves, last-known-good. */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import {
  type AwsSecretsManagerServer,
  startAwsSecretsManagerServer,
} from '../../src/testing/aws-secrets-manager-server.ts';
import { clientConfigFor, seed } from './_aws-fixture.ts';

const declaration = defineSecrets({
  CHANGENOW_API_KEY: { type: t.string(), category: 'api-key' },
  DB_PORT: { type: t.int(), category: 'app-config' },
  DB_USER: { type: t.string(), category: 'app-config' },
});

const RDS_FIELDS: Record<string, string> = { DB_PORT: 'port', DB_USER: 'username' };

describe('Source: awsSecretsManager under the manager', () => {
  let server: AwsSecretsManagerServer;

  before(async () => {
    server = await startAwsSecretsManagerServer();
    seed(server, 'CHANGENOW_API_KEY', 'fake-changenow-key-1');
    seed(server, 'rds/app', JSON.stringify({ username: 'app_user', password: 'fake-db-password', port: 5432 }));
  });
  after(() => server.close());

  function manager(options: { orderByCreatedDate?: boolean } = {}) {
    return createKeyshift(declaration, {
      logger: false,
      minRefreshIntervalMs: 1,
      source: awsSecretsManager({
        ...options,
        clientConfig: clientConfigFor(server),
        select: (name) => {
          const jsonKey = RDS_FIELDS[name];
          return jsonKey ? { secretId: 'rds/app', jsonKey } : { secretId: name };
        },
      }),
    });
  }

  it('loads typed values at ready(), then serves a rotation and, with orderByCreatedDate off, a stage-move rollback on refresh', async () => {
    const ks = manager({ orderByCreatedDate: false });
    await ks.ready();
    assert.equal(ks.get('CHANGENOW_API_KEY').reveal(), 'fake-changenow-key-1');
    assert.equal(ks.get('DB_PORT'), 5432);
    assert.equal(ks.get('DB_USER'), 'app_user');

    const arn = String(server.direct('DescribeSecret', { SecretId: 'CHANGENOW_API_KEY' }).ARN);
    const before = ks.status().entries.find((e) => e.name === 'CHANGENOW_API_KEY')?.version;
    const v2 = String(
      server.direct('PutSecretValue', { SecretId: arn, SecretString: 'fake-changenow-key-2' }).VersionId,
    );
    const [rotated] = await ks.refresh('CHANGENOW_API_KEY');
    assert.equal(rotated?.version, v2);
    assert.equal(ks.get('CHANGENOW_API_KEY').reveal(), 'fake-changenow-key-2');

    server.direct('UpdateSecretVersionStage', {
      SecretId: 'CHANGENOW_API_KEY',
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: before,
      RemoveFromVersionId: v2,
    });
    const [rolledBack] = await ks.refresh('CHANGENOW_API_KEY');
    assert.equal(rolledBack?.version, before);
    assert.equal(ks.get('CHANGENOW_API_KEY').reveal(), 'fake-changenow-key-1');
    await ks.close();
  });

  it('by default never serves an older version: a stage moved back is counted out-of-order, a rollback written as a new version is served', async () => {
    seed(server, 'ORDERED_KEY', 'fake-ordered-key-1');
    const ks = createKeyshift(defineSecrets({ ORDERED_KEY: { type: t.string(), category: 'api-key' } }), {
      logger: false,
      minRefreshIntervalMs: 1,
      source: awsSecretsManager({ clientConfig: clientConfigFor(server) }),
    });
    const older: string[] = [];
    ks.on('out-of-order', (e) => older.push(`${e.version}<${e.servedVersion}`));
    await ks.ready();
    const v1 = ks.status().entries[0]?.version;
    const v2 = String(server.direct('PutSecretValue', { SecretId: 'ORDERED_KEY', SecretString: 'fake-ordered-key-2' }).VersionId);
    await ks.refresh('ORDERED_KEY');
    assert.equal(ks.get('ORDERED_KEY').reveal(), 'fake-ordered-key-2');
    server.direct('UpdateSecretVersionStage', { SecretId: 'ORDERED_KEY', VersionStage: 'AWSCURRENT', MoveToVersionId: v1, RemoveFromVersionId: v2 });
    const [moved] = await ks.refresh('ORDERED_KEY');
    assert.deepEqual({ changed: moved?.changed, version: moved?.version }, { changed: false, version: v2 });
    assert.equal(ks.get('ORDERED_KEY').reveal(), 'fake-ordered-key-2', 'an older creation date is not served');
    assert.deepEqual(older, [`${v1}<${v2}`]);
    const v3 = String(server.direct('PutSecretValue', { SecretId: 'ORDERED_KEY', SecretString: 'fake-ordered-key-1' }).VersionId);
    const [rolledBack] = await ks.refresh('ORDERED_KEY');
    assert.equal(rolledBack?.version, v3);
    assert.equal(ks.get('ORDERED_KEY').reveal(), 'fake-ordered-key-1', 'the old value, written as a new version, is served');
    await ks.close();
  });

  it('keeps the last-known-good value through a 5xx and a throttle, and reports the code', async () => {
    const ks = manager();
    await ks.ready();
    server.inject({ error: 'InternalServiceError', times: 1 });
    const [failed] = await ks.refresh('CHANGENOW_API_KEY');
    assert.equal(failed?.outcome, 'error');
    assert.equal(failed?.error?.code, 'KS_ERR_SOURCE_UNAVAILABLE');
    assert.ok(ks.get('CHANGENOW_API_KEY').reveal().startsWith('fake-changenow-key-'));
    server.inject({ error: 'ThrottlingException', retryAfterSeconds: 3, times: 1 });
    const [throttled] = await ks.refresh('DB_PORT');
    assert.equal(throttled?.error?.code, 'KS_ERR_SOURCE_THROTTLED');
    assert.equal(ks.get('DB_PORT'), 5432);
    await ks.close();
  });

  it('fails ready() on AccessDenied with an error naming the secret and what to check', async () => {
    const ks = manager();
    server.inject({ error: 'AccessDeniedException' }); // both BatchGetSecretValue (the ready() prefetch) and GetSecretValue
    await assert.rejects(ks.ready(), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'KS_ERR_SOURCE_DENIED');
      assert.match(error.message, /secretsmanager:GetSecretValue/);
      return true;
    });
    server.clearFaults();
    await ks.close();
  });
});
