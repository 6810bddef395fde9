/**
 * The Secret Manager source with the real client against the emulator over loopback:
 * every error case of the issue, checksums, deadlines, and the push wiring.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { type GcpSecretManagerSource, gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';

const FAKE = 'fake-value-not-a-secret';
const opts = (ms = 5_000) => ({ signal: AbortSignal.timeout(ms), maxBytes: 64 * 1024 });

/** The KeyshiftError a call rejected with. */
async function failure(promise: Promise<unknown>): Promise<KeyshiftError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyshiftError, `expected a KeyshiftError, got ${String(error)}`);
    assert.ok(!error.message.includes(FAKE), 'an error message carries the value');
    return error;
  }
  assert.fail('the call resolved');
}

describe('Source: gcpSecretManager against the emulator', () => {
  let f: Fixture;
  let source: GcpSecretManagerSource;
  before(async () => {
    f = await startFixture();
    source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
    await seed(f, 'API_KEY', `${FAKE}-1`, `${FAKE}-2`);
  });
  after(async () => {
    await source.close();
    await f.close();
  });

  it('reads latest, with the version number the service resolved', async () => {
    const got = await source.get('API_KEY', opts());
    assert.equal(Buffer.from(got!.value).toString(), `${FAKE}-2`);
    assert.equal(got!.version, '2');
    assert.equal(got!.order, 2, 'read at latest, the number is the order: the served version never goes backwards');
  });

  it('reads a pinned number or an alias, per entry', async () => {
    await f.client.updateSecret({
      secret: { name: f.secret('API_KEY'), versionAliases: { stable: 1 } },
      updateMask: { paths: ['version_aliases'] },
    });
    const pinned = gcpSecretManager({
      project: PROJECT,
      clientOptions: f.emulator.clientOptions(),
      secretId: (name) => name.replace(/_(PINNED|ALIASED)$/, ''),
      version: (name) => (name.endsWith('_PINNED') ? 1 : name.endsWith('_ALIASED') ? 'stable' : 'latest'),
    });
    try {
      assert.equal((await pinned.get('API_KEY_PINNED', opts()))!.version, '1');
      assert.equal((await pinned.get('API_KEY_ALIASED', opts()))!.version, '1');
      assert.equal((await pinned.get('API_KEY', opts()))!.version, '2');
      // an alias moved back is an explicit rollback, a pinned number never moves: neither carries an order
      assert.equal((await pinned.get('API_KEY_ALIASED', opts()))!.order, undefined);
      assert.equal((await pinned.get('API_KEY_PINNED', opts()))!.order, undefined);
      assert.deepEqual(pinned.entriesFor('projects/123456/secrets/API_KEY').sort(), [
        'API_KEY',
        'API_KEY_ALIASED',
        'API_KEY_PINNED',
      ]);
    } finally {
      await pinned.close();
    }
  });

  it('reads a secret named by its full resource name (another project)', async () => {
    const other = gcpSecretManager({
      project: PROJECT,
      clientOptions: f.emulator.clientOptions(),
      secretId: () => `projects/${PROJECT}/secrets/API_KEY/versions/1`,
    });
    try {
      assert.equal((await other.get('ANY', opts()))!.version, '1');
    } finally {
      await other.close();
    }
  });

  it('resolves undefined for a missing secret or version (NOT_FOUND is not a failure), and locates it', async () => {
    assert.equal(await source.get('MISSING', opts()), undefined);
    assert.equal(source.locate?.('MISSING'), `Secret Manager projects/${PROJECT}/secrets/MISSING/versions/latest`);
    const v9 = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions(), version: 9 });
    try {
      assert.equal(await v9.get('API_KEY', opts()), undefined);
    } finally {
      await v9.close();
    }
  });

  it('PERMISSION_DENIED: KS_ERR_SOURCE_DENIED naming the resource and the IAM permission, no raw message', async () => {
    f.emulator.faults.inject('AccessSecretVersion', { code: 'PERMISSION_DENIED', times: 1 });
    const error = await failure(source.get('API_KEY', opts()));
    assert.equal(error.code, ErrorCodes.SOURCE_DENIED);
    assert.equal(error.entry, 'API_KEY');
    assert.match(error.message, /secretmanager\.versions\.access/);
    assert.match(error.message, /exists/);
    assert.ok(error.message.includes(`projects/${PROJECT}/secrets/API_KEY/versions/latest`));
    assert.ok(!error.message.includes('injected'), 'the service message was copied');
    assert.ok(!String((error.cause as Error).message).includes('injected'));
    assert.equal(error.details.grpcCode, 'PERMISSION_DENIED');
  });

  it('FAILED_PRECONDITION on a disabled, then destroyed, latest: KS_ERR_VERSION_DISABLED naming the version', async () => {
    await seed(f, 'ROTATING', `${FAKE}-a`, `${FAKE}-b`);
    await f.client.disableSecretVersion({ name: `${f.secret('ROTATING')}/versions/2` });
    const disabled = await failure(source.get('ROTATING', opts()));
    assert.equal(disabled.code, ErrorCodes.VERSION_DISABLED);
    assert.equal(disabled.details.state, 'disabled');
    assert.equal(disabled.details.version, '2');
    assert.match(disabled.message, /version 2 is disabled/);
    await f.client.destroySecretVersion({ name: `${f.secret('ROTATING')}/versions/2` });
    const destroyed = await failure(source.get('ROTATING', opts()));
    assert.equal(destroyed.code, ErrorCodes.VERSION_DISABLED);
    assert.equal(destroyed.details.state, 'destroyed');
    assert.match(destroyed.message, /version 2 is destroyed/);
  });

  for (const [code, expected] of [
    ['UNAVAILABLE', ErrorCodes.SOURCE_UNAVAILABLE],
    ['UNKNOWN', ErrorCodes.SOURCE_UNAVAILABLE],
    ['RESOURCE_EXHAUSTED', ErrorCodes.SOURCE_THROTTLED],
    ['DEADLINE_EXCEEDED', ErrorCodes.SOURCE_TIMEOUT],
  ] as const) {
    it(`${code}: ${expected}, after exactly one call (the client's own retries are off)`, async () => {
      f.emulator.faults.inject('AccessSecretVersion', { code, times: 5 });
      const before = f.emulator.callCount('AccessSecretVersion');
      const error = await failure(source.get('API_KEY', opts()));
      assert.equal(error.code, expected);
      assert.equal(f.emulator.callCount('AccessSecretVersion') - before, 1);
      f.emulator.faults.clear();
    });
  }

  it('a hung call is abandoned when the signal aborts (KS_ERR_SOURCE_TIMEOUT)', async () => {
    f.emulator.faults.inject('AccessSecretVersion', { hang: true, times: 1 });
    const error = await failure(source.get('API_KEY', opts(200)));
    assert.equal(error.code, ErrorCodes.SOURCE_TIMEOUT);
  });

  it('a hung call ends at the per-call gRPC deadline even when the signal never aborts', async () => {
    const short = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions(), timeoutMs: 200 });
    f.emulator.faults.inject('AccessSecretVersion', { hang: true, times: 1 });
    try {
      const error = await failure(short.get('API_KEY', { signal: new AbortController().signal, maxBytes: 1024 }));
      assert.equal(error.code, ErrorCodes.SOURCE_TIMEOUT);
      assert.equal(error.details.grpcCode, 'DEADLINE_EXCEEDED');
    } finally {
      await short.close();
    }
  });

  it('a wrong data_crc32c: KS_ERR_CHECKSUM_MISMATCH naming the entry and version', async () => {
    f.emulator.faults.inject('AccessSecretVersion', { checksum: 'bad', times: 1 });
    const error = await failure(source.get('API_KEY', opts()));
    assert.equal(error.code, ErrorCodes.CHECKSUM_MISMATCH);
    assert.equal(error.entry, 'API_KEY');
    assert.equal(error.details.version, '2');
    assert.match(error.message, /API_KEY.*version 2/);
  });

  it('a payload without data_crc32c is accepted', async () => {
    f.emulator.faults.inject('AccessSecretVersion', { checksum: 'omit', times: 1 });
    const got = await source.get('API_KEY', opts());
    assert.equal(Buffer.from(got!.value).toString(), `${FAKE}-2`);
  });

  it('refuses a payload over maxBytes with KS_ERR_VALUE_TOO_LARGE', async () => {
    const error = await failure(source.get('API_KEY', { signal: AbortSignal.timeout(5_000), maxBytes: 4 }));
    assert.equal(error.code, ErrorCodes.VALUE_TOO_LARGE);
  });

  it('invalidate() reaches every watcher; entriesFor() maps a notification to the entries read', async () => {
    const seen: (readonly string[] | undefined)[] = [];
    const stop = source.watch((names) => seen.push(names));
    source.invalidate(source.entriesFor(`projects/${PROJECT}/secrets/API_KEY`));
    assert.deepEqual(source.entriesFor(`projects/${PROJECT}/secrets/NEVER_READ`), []);
    stop();
    source.invalidate(['API_KEY']);
    assert.deepEqual(seen, [['API_KEY']]);
  });

  it('needs a project, and refuses invalid ids and versions at the first read', async () => {
    const saved = { a: process.env.GOOGLE_CLOUD_PROJECT, b: process.env.GCLOUD_PROJECT, c: process.env.GCE_METADATA_HOST };
    delete process.env.GOOGLE_CLOUD_PROJECT;
    delete process.env.GCLOUD_PROJECT;
    process.env.GCE_METADATA_HOST = '127.0.0.1:9'; // no metadata server either
    try {
      const none = gcpSecretManager({ clientOptions: f.emulator.clientOptions() });
      await assert.rejects(none.get('API_KEY', opts()), { code: ErrorCodes.INVALID_DECLARATION, message: /no project/ });
      await none.close();
    } finally {
      if (saved.a !== undefined) process.env.GOOGLE_CLOUD_PROJECT = saved.a;
      if (saved.b !== undefined) process.env.GCLOUD_PROJECT = saved.b;
      if (saved.c !== undefined) process.env.GCE_METADATA_HOST = saved.c;
      else delete process.env.GCE_METADATA_HOST;
    }
    const bad = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions(), version: 'x/y' });
    await assert.rejects(bad.get('API_KEY', opts()), { code: ErrorCodes.INVALID_DECLARATION });
    await assert.rejects(source.get('bad name', opts()), { code: ErrorCodes.INVALID_DECLARATION });
    await bad.close();
  });

  it('after close(), reads fail with KS_ERR_CLOSED; a second close() is a no-op', async () => {
    const closing = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
    await closing.get('API_KEY', opts());
    await closing.close();
    await closing.close();
    await assert.rejects(closing.get('API_KEY', opts()), { code: ErrorCodes.CLOSED });
  });
});
