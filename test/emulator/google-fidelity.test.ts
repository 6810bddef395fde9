/**
 * Where the emulator must answer as Google's Secret Manager does, checked through the
 * unmodified official client: code that passes here must not fail in production.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crc32c } from '../../src/emulator/index.ts';
import { GrpcCode } from '../../src/gcp/grpc-codes.ts';
import { codeOf, type Fixture, PROJECT, seed, startFixture } from './_fixture.ts';

describe('Emulator fidelity to Google (official client)', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(() => f.close());

  it('answers an etag mismatch with FAILED_PRECONDITION, on secrets and versions', async () => {
    await seed(f, 'ETAGGED', 'fake-e1');
    const [secret] = await f.client.getSecret({ name: f.secret('ETAGGED') });
    await f.client.updateSecret({ secret: { name: f.secret('ETAGGED'), labels: { a: 'b' } }, updateMask: { paths: ['labels'] } });
    const stale = f.client.updateSecret({
      secret: { name: f.secret('ETAGGED'), labels: { a: 'c' }, etag: secret.etag },
      updateMask: { paths: ['labels'] },
    });
    assert.equal(await codeOf(stale), GrpcCode.FAILED_PRECONDITION);
    assert.equal(await codeOf(f.client.deleteSecret({ name: f.secret('ETAGGED'), etag: secret.etag! })), GrpcCode.FAILED_PRECONDITION);
    const version = f.client.disableSecretVersion({ name: `${f.secret('ETAGGED')}/versions/1`, etag: '"not-the-etag"' });
    assert.equal(await codeOf(version), GrpcCode.FAILED_PRECONDITION);
    const [kept] = await f.client.getSecret({ name: f.secret('ETAGGED') });
    assert.deepEqual(kept.labels, { a: 'b' }, 'nothing written by the refused calls');
  });

  it('keeps the secret etag when versions change, changes it on every update, and quotes it', async () => {
    await seed(f, 'STABLE', 'fake-s1');
    const [before] = await f.client.getSecret({ name: f.secret('STABLE') });
    assert.match(before.etag!, /^".+"$/);
    await f.client.addSecretVersion({ parent: f.secret('STABLE'), payload: { data: Buffer.from('fake-s2') } });
    await f.client.disableSecretVersion({ name: `${f.secret('STABLE')}/versions/1` });
    await f.client.destroySecretVersion({ name: `${f.secret('STABLE')}/versions/1` });
    const [after] = await f.client.getSecret({ name: f.secret('STABLE') });
    assert.equal(after.etag, before.etag, 'a version change never changes the secret etag');
    // A conditional update with the etag read before the version changes still succeeds.
    const [updated] = await f.client.updateSecret({
      secret: { name: f.secret('STABLE'), labels: {}, etag: before.etag },
      updateMask: { paths: ['labels'] },
    });
    assert.notEqual(updated.etag, before.etag, 'a no-op update still changes the etag');
    assert.match(updated.etag!, /^".+"$/);
    const [version] = await f.client.getSecretVersion({ name: `${f.secret('STABLE')}/versions/2` });
    assert.match(version.etag!, /^".+"$/);
  });

  it('keeps projects apart: a store holds one project, another project is PERMISSION_DENIED', async () => {
    await seed(f, 'MINE', 'fake-mine');
    const other = f.client.getSecret({ name: 'projects/someone-else/secrets/MINE' });
    assert.equal(await codeOf(other), GrpcCode.PERMISSION_DENIED);
    const list = f.client.listSecrets({ parent: 'projects/someone-else' });
    assert.equal(await codeOf(list), GrpcCode.PERMISSION_DENIED);
    const create = f.client.createSecret({ parent: 'projects/someone-else', secretId: 'THEIRS', secret: {} });
    assert.equal(await codeOf(create), GrpcCode.PERMISSION_DENIED);
    const [mine] = await f.client.getSecret({ name: f.secret('MINE') });
    assert.equal(mine.name, f.secret('MINE'));
  });

  it('accepts secret ids of up to 255 characters, refuses 256', async () => {
    for (const length of [230, 250, 255]) {
      const id = `L${'x'.repeat(length - 1)}`;
      await seed(f, id, `fake-long-${length}`);
      const [got] = await f.client.accessSecretVersion({ name: `${f.secret(id)}/versions/latest` });
      assert.equal(Buffer.from(got.payload!.data as Uint8Array).toString(), `fake-long-${length}`);
    }
    const tooLong = f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'L'.repeat(256), secret: {} });
    assert.equal(await codeOf(tooLong), GrpcCode.INVALID_ARGUMENT);
  });

  it('refuses an alias named NEW, more than 50 aliases, and upper-case label keys', async () => {
    await seed(f, 'ALIASED', 'fake-a1');
    const update = (versionAliases: Record<string, number>) =>
      f.client.updateSecret({ secret: { name: f.secret('ALIASED'), versionAliases }, updateMask: { paths: ['version_aliases'] } });
    assert.equal(await codeOf(update({ NEW: 1 })), GrpcCode.INVALID_ARGUMENT);
    const fifty = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`a${i}`, 1]));
    await update(fifty);
    assert.equal(await codeOf(update({ ...fifty, a50: 1 })), GrpcCode.INVALID_ARGUMENT);
    const [kept] = await f.client.getSecret({ name: f.secret('ALIASED') });
    assert.equal(Object.keys(kept.versionAliases ?? {}).length, 50);

    const refused: Record<string, string>[] = [{ Team: 'x' }, { '1team': 'x' }, { ['t'.repeat(64)]: 'x' }, { team: 'Upper' }];
    for (const labels of refused) {
      const created = f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'LABELLED', secret: { labels } });
      assert.equal(await codeOf(created), GrpcCode.INVALID_ARGUMENT, JSON.stringify(Object.keys(labels)));
    }
    await f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'LABELLED', secret: { labels: { team_1: 'pay-ments' } } });
    const upper = f.client.updateSecret({ secret: { name: f.secret('LABELLED'), labels: { Env: 'prod' } }, updateMask: { paths: ['labels'] } });
    assert.equal(await codeOf(upper), GrpcCode.INVALID_ARGUMENT);
  });

  it('gives destroyed versions a destroy_time, and only them', async () => {
    await seed(f, 'DESTROYED', 'fake-d1', 'fake-d2');
    const [destroyed] = await f.client.destroySecretVersion({ name: `${f.secret('DESTROYED')}/versions/1` });
    assert.equal(destroyed.state, 'DESTROYED');
    assert.ok(Number(destroyed.destroyTime?.seconds) >= Number(destroyed.createTime?.seconds));
    const [listed] = await f.client.listSecretVersions({ parent: f.secret('DESTROYED') });
    assert.ok(listed.find((v) => v.name?.endsWith('/1'))?.destroyTime?.seconds);
    assert.equal(listed.find((v) => v.name?.endsWith('/2'))?.destroyTime, null);
  });

  it('keeps client_specified_payload_checksum on get and list', async () => {
    await seed(f, 'SUMMED');
    const data = Buffer.from('fake-summed');
    await f.client.addSecretVersion({ parent: f.secret('SUMMED'), payload: { data, dataCrc32c: crc32c(data) } });
    await f.client.addSecretVersion({ parent: f.secret('SUMMED'), payload: { data } });
    const [one] = await f.client.getSecretVersion({ name: `${f.secret('SUMMED')}/versions/1` });
    const [two] = await f.client.getSecretVersion({ name: `${f.secret('SUMMED')}/versions/2` });
    assert.equal(one.clientSpecifiedPayloadChecksum, true);
    assert.equal(two.clientSpecifiedPayloadChecksum, false);
    const [listed] = await f.client.listSecretVersions({ parent: f.secret('SUMMED') });
    assert.deepEqual(
      listed.map((v) => [v.name?.split('/').pop(), v.clientSpecifiedPayloadChecksum]),
      [
        ['2', false],
        ['1', true],
      ],
    );
  });

  it('refuses a version without a payload', async () => {
    await seed(f, 'NO_PAYLOAD');
    assert.equal(await codeOf(f.client.addSecretVersion({ parent: f.secret('NO_PAYLOAD') })), GrpcCode.INVALID_ARGUMENT);
    const [versions] = await f.client.listSecretVersions({ parent: f.secret('NO_PAYLOAD') });
    assert.equal(versions.length, 0);
  });

  it('implements GetIamPolicy, SetIamPolicy (etag-checked) and TestIamPermissions', async () => {
    await seed(f, 'GUARDED', 'fake-g1');
    const resource = f.secret('GUARDED');
    const [empty] = await f.client.getIamPolicy({ resource });
    assert.deepEqual(empty.bindings, []);
    const binding = { role: 'roles/secretmanager.secretAccessor', members: ['serviceAccount:app@p.iam.gserviceaccount.com'] };
    const [set] = await f.client.setIamPolicy({ resource, policy: { bindings: [binding], etag: empty.etag } });
    const [got] = await f.client.getIamPolicy({ resource });
    assert.deepEqual(got.bindings?.map((b) => [b.role, b.members]), [[binding.role, binding.members]]);
    assert.deepEqual(Buffer.from(got.etag as Uint8Array), Buffer.from(set.etag as Uint8Array));
    const stale = f.client.setIamPolicy({ resource, policy: { bindings: [], etag: empty.etag } });
    assert.equal(await codeOf(stale), GrpcCode.ABORTED, 'a policy read before another change is refused');
    const badRole = f.client.setIamPolicy({ resource, policy: { bindings: [{ role: 'owner', members: ['user:a@b.c'] }] } });
    assert.equal(await codeOf(badRole), GrpcCode.INVALID_ARGUMENT);
    const [tested] = await f.client.testIamPermissions({
      resource,
      permissions: ['secretmanager.versions.access', 'storage.objects.get'],
    });
    assert.deepEqual(tested.permissions, ['secretmanager.versions.access']);
    assert.equal(await codeOf(f.client.getIamPolicy({ resource: f.secret('NO_SUCH') })), GrpcCode.NOT_FOUND);
  });

  it('keeps and returns replication and expiration given at create; refuses what it cannot honour', async () => {
    const userManaged = { userManaged: { replicas: [{ location: 'europe-west1' }, { location: 'us-east1' }] } };
    await f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'REPLICATED', secret: { replication: userManaged, ttl: { seconds: 3600 } } });
    const [got] = await f.client.getSecret({ name: f.secret('REPLICATED') });
    assert.deepEqual(got.replication?.userManaged?.replicas?.map((r) => r.location), ['europe-west1', 'us-east1']);
    const expires = Number(got.expireTime?.seconds);
    assert.ok(expires > Date.now() / 1000 + 3500 && expires <= Date.now() / 1000 + 3600, 'ttl becomes expire_time');
    await f.client.addSecretVersion({ parent: f.secret('REPLICATED'), payload: { data: Buffer.from('fake-r1') } });
    const [version] = await f.client.getSecretVersion({ name: `${f.secret('REPLICATED')}/versions/1` });
    assert.deepEqual(version.replicationStatus?.userManaged?.replicas?.map((r) => r.location), ['europe-west1', 'us-east1']);

    const at = { seconds: Math.floor(Date.now() / 1000) + 86_400 };
    await f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'EXPIRING', secret: { replication: { automatic: {} }, expireTime: at } });
    const [listed] = await f.client.listSecrets({ parent: `projects/${PROJECT}` });
    assert.equal(Number(listed.find((s) => s.name === f.secret('EXPIRING'))?.expireTime?.seconds), at.seconds);

    const past = f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'PAST', secret: { expireTime: { seconds: 1 } } });
    assert.equal(await codeOf(past), GrpcCode.INVALID_ARGUMENT);
    const delayed = f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'DELAYED', secret: { versionDestroyTtl: { seconds: 86_400 } } });
    assert.equal(await codeOf(delayed), GrpcCode.INVALID_ARGUMENT);
    const noReplicas = f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: 'NOWHERE', secret: { replication: { userManaged: { replicas: [] } } } });
    assert.equal(await codeOf(noReplicas), GrpcCode.INVALID_ARGUMENT);
    const move = f.client.updateSecret({ secret: { name: f.secret('EXPIRING'), replication: { automatic: {} } }, updateMask: { paths: ['replication'] } });
    assert.equal(await codeOf(move), GrpcCode.INVALID_ARGUMENT);
  });
});
