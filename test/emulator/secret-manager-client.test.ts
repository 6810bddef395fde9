/**
 * The unmodified official client against the emulator over loopback: every method
 * the issue names, and the status codes the real service answers with.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crc32c } from '../../src/emulator/index.ts';
import { GrpcCode } from '../../src/gcp/grpc-codes.ts';
import { codeOf, type Fixture, PROJECT, seed, startFixture } from './_fixture.ts';

describe('Emulator: the official SecretManagerServiceClient', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  it('creates, gets and refuses a duplicate secret with ALREADY_EXISTS', async () => {
    const [created] = await f.client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: 'CREATED',
      secret: { replication: { automatic: {} }, labels: { team: 'payments' } },
    });
    assert.equal(created.name, f.secret('CREATED'));
    assert.deepEqual(created.labels, { team: 'payments' });
    assert.ok(created.createTime?.seconds);
    const [got] = await f.client.getSecret({ name: f.secret('CREATED') });
    assert.equal(got.name, f.secret('CREATED'));
    assert.equal(got.etag, created.etag);
    const dup = f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'CREATED', secret: {} });
    assert.equal(await codeOf(dup), GrpcCode.ALREADY_EXISTS);
  });

  it('adds versions and accesses latest, a number and an alias, with a correct data_crc32c', async () => {
    await seed(f, 'API_KEY', 'fake-v1', 'fake-v2');
    const [latest] = await f.client.accessSecretVersion({ name: `${f.secret('API_KEY')}/versions/latest` });
    assert.equal(latest.name, `${f.secret('API_KEY')}/versions/2`);
    assert.equal(Buffer.from(latest.payload!.data as Uint8Array).toString(), 'fake-v2');
    assert.equal(Number(latest.payload!.dataCrc32c), crc32c(Buffer.from('fake-v2')));
    const [first] = await f.client.accessSecretVersion({ name: `${f.secret('API_KEY')}/versions/1` });
    assert.equal(Buffer.from(first.payload!.data as Uint8Array).toString(), 'fake-v1');

    const [updated] = await f.client.updateSecret({
      secret: { name: f.secret('API_KEY'), versionAliases: { current: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });
    assert.equal(Number(updated.versionAliases!.current), 1);
    const [aliased] = await f.client.accessSecretVersion({ name: `${f.secret('API_KEY')}/versions/current` });
    assert.equal(aliased.name, `${f.secret('API_KEY')}/versions/1`);
    const [version] = await f.client.getSecretVersion({ name: `${f.secret('API_KEY')}/versions/current` });
    assert.equal(version.name, `${f.secret('API_KEY')}/versions/1`);
    assert.equal(version.state, 'ENABLED');
  });

  it('checks a client data_crc32c on AddSecretVersion: INVALID_ARGUMENT when it does not match', async () => {
    await seed(f, 'CHECKED');
    const data = Buffer.from('fake-checked');
    const [ok] = await f.client.addSecretVersion({ parent: f.secret('CHECKED'), payload: { data, dataCrc32c: crc32c(data) } });
    assert.equal(ok.clientSpecifiedPayloadChecksum, true);
    const bad = f.client.addSecretVersion({ parent: f.secret('CHECKED'), payload: { data, dataCrc32c: crc32c(data) ^ 1 } });
    assert.equal(await codeOf(bad), GrpcCode.INVALID_ARGUMENT);
  });

  it('answers NOT_FOUND for a missing secret, version or alias, and for a secret with no versions', async () => {
    await seed(f, 'EMPTY');
    await seed(f, 'ONE', 'fake');
    const calls = [
      () => f.client.getSecret({ name: f.secret('MISSING') }),
      () => f.client.accessSecretVersion({ name: `${f.secret('MISSING')}/versions/latest` }),
      () => f.client.accessSecretVersion({ name: `${f.secret('EMPTY')}/versions/latest` }),
      () => f.client.accessSecretVersion({ name: `${f.secret('ONE')}/versions/9` }),
      () => f.client.accessSecretVersion({ name: `${f.secret('ONE')}/versions/nosuchalias` }),
      () => f.client.getSecretVersion({ name: `${f.secret('ONE')}/versions/9` }),
      () => f.client.addSecretVersion({ parent: f.secret('MISSING'), payload: { data: Buffer.from('x') } }),
      () => f.client.deleteSecret({ name: f.secret('MISSING') }),
      () => f.client.disableSecretVersion({ name: `${f.secret('ONE')}/versions/9` }),
    ];
    for (const call of calls) assert.equal(await codeOf(call()), GrpcCode.NOT_FOUND);
  });

  it('answers INVALID_ARGUMENT for malformed names and ids', async () => {
    const calls = [
      () => f.client.getSecret({ name: 'projects/p/secrets/bad name' }),
      () => f.client.getSecret({ name: 'secrets/X' }),
      () => f.client.accessSecretVersion({ name: `${f.secret('X')}/versions/0` }),
      () => f.client.accessSecretVersion({ name: `${f.secret('X')}` }),
      () => f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'has/slash', secret: {} }),
      () => f.client.createSecret({ parent: 'projects', secretId: 'OK', secret: {} }),
    ];
    for (const call of calls) assert.equal(await codeOf(call()), GrpcCode.INVALID_ARGUMENT);
  });

  it('disables, enables and destroys versions; FAILED_PRECONDITION when accessing a disabled or destroyed one', async () => {
    await seed(f, 'ROTATED', 'fake-1', 'fake-2');
    const v2 = `${f.secret('ROTATED')}/versions/2`;
    const [disabled] = await f.client.disableSecretVersion({ name: v2 });
    assert.equal(disabled.state, 'DISABLED');
    assert.equal(await codeOf(f.client.accessSecretVersion({ name: v2 })), GrpcCode.FAILED_PRECONDITION);
    // `latest` is the highest version whatever its state, as in Secret Manager: no silent fallback to v1.
    const latest = f.client.accessSecretVersion({ name: `${f.secret('ROTATED')}/versions/latest` });
    assert.equal(await codeOf(latest), GrpcCode.FAILED_PRECONDITION);
    const [enabled] = await f.client.enableSecretVersion({ name: v2 });
    assert.equal(enabled.state, 'ENABLED');
    await f.client.accessSecretVersion({ name: v2 });
    const [destroyed] = await f.client.destroySecretVersion({ name: v2 });
    assert.equal(destroyed.state, 'DESTROYED');
    assert.equal(await codeOf(f.client.accessSecretVersion({ name: v2 })), GrpcCode.FAILED_PRECONDITION);
    assert.equal(await codeOf(f.client.enableSecretVersion({ name: v2 })), GrpcCode.FAILED_PRECONDITION);
    const [kept] = await f.client.getSecretVersion({ name: v2 });
    assert.equal(kept.state, 'DESTROYED');
  });

  it('lists secrets and versions page by page, newest version first', async () => {
    for (let i = 0; i < 5; i++) await seed(f, `PAGED_${i}`);
    const [all] = await f.client.listSecrets({ parent: `projects/${PROJECT}` });
    const paged = all.map((s) => s.name).filter((n) => n?.includes('PAGED_'));
    assert.deepEqual(paged, [0, 1, 2, 3, 4].map((i) => f.secret(`PAGED_${i}`)));

    const [page, next] = await f.client.listSecrets({ parent: `projects/${PROJECT}`, pageSize: 2 }, { autoPaginate: false });
    assert.equal(page.length, 2);
    assert.ok(next?.pageToken);
    const seen: string[] = [];
    for await (const secret of f.client.listSecretsAsync({ parent: `projects/${PROJECT}`, pageSize: 2 }, { autoPaginate: false })) {
      seen.push(secret.name!);
    }
    assert.equal(new Set(seen).size, seen.length);
    assert.ok(seen.length >= 5);

    await seed(f, 'VERSIONS', 'a', 'b', 'c');
    const [versions] = await f.client.listSecretVersions({ parent: f.secret('VERSIONS'), pageSize: 1 });
    assert.deepEqual(
      versions.map((v) => v.name),
      [3, 2, 1].map((n) => `${f.secret('VERSIONS')}/versions/${n}`),
    );
  });

  it('never serves a cached read after a write, through gRPC or by another writer of the store', async () => {
    await seed(f, 'CACHED', 'fake-c1');
    const latest = `${f.secret('CACHED')}/versions/latest`;
    const read = async () => Buffer.from((await f.client.accessSecretVersion({ name: latest }))[0].payload!.data as Uint8Array).toString();
    assert.equal(await read(), 'fake-c1');
    assert.equal(await read(), 'fake-c1');
    await f.client.addSecretVersion({ parent: f.secret('CACHED'), payload: { data: Buffer.from('fake-c2') } });
    assert.equal(await read(), 'fake-c2');
    await f.client.disableSecretVersion({ name: `${f.secret('CACHED')}/versions/2` });
    assert.equal(await codeOf(f.client.accessSecretVersion({ name: latest })), GrpcCode.FAILED_PRECONDITION);
    await f.client.enableSecretVersion({ name: `${f.secret('CACHED')}/versions/2` });
    assert.equal(await read(), 'fake-c2');
    // Another process's write is seen once the store's change feed reports it.
    await f.emulator.store.put('CACHED', 'fake-c3');
    while ((await read()) !== 'fake-c3') await new Promise((resolve) => setTimeout(resolve, 10));
  });

  it('deletes a secret, after which it is NOT_FOUND', async () => {
    await seed(f, 'DOOMED', 'fake');
    await f.client.deleteSecret({ name: f.secret('DOOMED') });
    assert.equal(await codeOf(f.client.getSecret({ name: f.secret('DOOMED') })), GrpcCode.NOT_FOUND);
  });
});
