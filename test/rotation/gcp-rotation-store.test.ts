// Scheduled rotation writing to Google Cloud Secret Manager: gcpRotationStore over the
// official client, against the emulator on loopback. The rotation lock is the secret's
// etag (UpdateSecret with `etag` set), `extra` lives in the `keyshift-extra` annotation
// and the aliases in `versionAliases`; a keyshift manager on the gcpSecretManager source
// (refreshed by the emulator's push notifications) serves each new version.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { readState } from '../../src/rotation/staged/_rotation-state.ts';
import { GCP_EXTRA_ANNOTATION, gcpRotationStore } from '../../src/rotation/staged/gcp-rotation-store.ts';
import { createRotationRunner, type RotationResult, type RotationStore } from '../../src/rotation/staged/rotation-runner.ts';
import { randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import { gcpPubSubPushHandler } from '../../src/sources/gcp-pubsub-push.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { codeOf, type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';
import { startPushServer } from '../emulator/_push-server.ts';
import { waitUntil } from './_pg-load.ts';
import { spread } from './_rotation-fleet.ts';

const TOKEN = 'fake-push-token-0123456789abcdef';
const INVALID_ARGUMENT = 3;
const declaration = defineSecrets({ CHANGENOW_API_KEY: { type: t.string(), category: 'api-key', ttlMs: 60 * 60_000 } });

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

async function rejection(promise: Promise<unknown>): Promise<KeyshiftError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyshiftError, `a KeyshiftError, not ${(error as Error)?.name}`);
    return error;
  }
  assert.fail('expected a rejection');
}

/** A store whose updateSecret counts the etag conflicts it lost, and those the service itself refused (instrumentation around the real store). */
function countingConflicts(store: RotationStore): { store: RotationStore; conflicts: { all: number; byService: number } } {
  const conflicts = { all: 0, byService: 0 };
  const counted: RotationStore = {
    ...store,
    async updateSecret(...args: Parameters<RotationStore['updateSecret']>) {
      try {
        return await store.updateSecret(...args);
      } catch (error) {
        if (error instanceof KeyshiftError && error.code === ErrorCodes.CONFLICT) {
          conflicts.all++;
          if (error.details.grpcCode === 'FAILED_PRECONDITION') conflicts.byService++;
        }
        throw error;
      }
    },
  };
  return { store: counted, conflicts };
}

describe('gcpRotationStore: scheduled rotation on Google Cloud Secret Manager (emulator, official client)', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ project: PROJECT });
  });
  after(() => f.close());

  it('maps metadata, etag conflicts, limits and checksums as the local store does, with the resource path and never a value', async () => {
    const store = gcpRotationStore({ project: PROJECT, client: f.client });
    const missing = await rejection(store.getSecret('NO_SUCH_SECRET'));
    assert.equal(missing.code, ErrorCodes.SOURCE_NOT_FOUND);
    assert.match(missing.message, /projects\/test-project\/secrets\/NO_SUCH_SECRET/);

    const created = await store.createSecret('MAPPED', { labels: { team: 'payments' }, annotations: { owner: 'pgp' }, extra: { note: 'n1' } });
    assert.equal(created.latest, undefined);
    assert.equal((await rejection(store.createSecret('MAPPED'))).code, ErrorCodes.CONFLICT, 'ALREADY_EXISTS is a conflict, as ensureSecret expects');
    await store.put('MAPPED', 'fake-mapped-value-1');
    const v2 = await store.put('MAPPED', 'fake-mapped-value-2', { ifLatest: 1 });
    assert.equal(v2.version, 2);
    const stale = await rejection(store.put('MAPPED', 'fake-mapped-value-3', { ifLatest: 1 }));
    assert.equal(stale.code, ErrorCodes.CONFLICT);
    assert.ok(!stale.message.includes('fake-mapped'));

    const info = await store.getSecret('MAPPED');
    assert.deepEqual({ latest: info.latest, count: info.versionCount, labels: info.labels, annotations: info.annotations, extra: info.extra }, {
      latest: 2,
      count: 2,
      labels: { team: 'payments' },
      annotations: { owner: 'pgp' },
      extra: { note: 'n1' },
    });
    const updated = await store.updateSecret('MAPPED', { extra: { note: 'n2' }, aliases: { current: 2, previous: 1 } }, { ifEtag: info.etag });
    assert.notEqual(updated.etag, info.etag);
    assert.deepEqual(updated.annotations, { owner: 'pgp' }, 'a patch of extra keeps the other annotations');
    const [raw] = await f.client.getSecret({ name: f.secret('MAPPED') });
    assert.deepEqual(JSON.parse(raw.annotations?.[GCP_EXTRA_ANNOTATION] ?? 'null'), { note: 'n2' });
    assert.deepEqual(Object.fromEntries(Object.entries(raw.versionAliases ?? {}).map(([k, v]) => [k, Number(v)])), { current: 2, previous: 1 });
    assert.equal((await store.access('MAPPED', 'previous')).version, 1, 'aliases are versionAliases');

    // The etag condition: the service refuses it, and that is the local store's code.
    const lost = await rejection(store.updateSecret('MAPPED', { labels: {} }, { ifEtag: info.etag }));
    assert.equal(lost.code, ErrorCodes.CONFLICT);
    assert.equal(lost.details.grpcCode, 'FAILED_PRECONDITION', 'refused by the service, not by a read before it');
    assert.match(lost.message, /projects\/test-project\/secrets\/MAPPED/);
    assert.equal((await rejection(store.updateSecret('MAPPED', { extra: {} }, { ifEtag: info.etag }))).code, ErrorCodes.CONFLICT);

    // 16 KiB of annotations: refused here, clearly, and nothing written; the emulator refuses it too, as the service does.
    const big = await rejection(store.updateSecret('MAPPED', { extra: { blob: 'x'.repeat(16 * 1024) } }, { ifEtag: updated.etag }));
    assert.equal(big.code, ErrorCodes.VALUE_TOO_LARGE);
    assert.match(big.message, /16384 bytes/);
    assert.equal((await store.getSecret('MAPPED')).etag, updated.etag);
    const direct = f.client.updateSecret({ secret: { name: f.secret('MAPPED'), annotations: { big: 'x'.repeat(16 * 1024) } }, updateMask: { paths: ['annotations'] } });
    assert.equal(await codeOf(direct), INVALID_ARGUMENT);

    // A payload that fails its CRC32C is refused, without the value in the error.
    f.emulator.faults.inject('AccessSecretVersion', { checksum: 'bad', times: 1 });
    const tampered = await rejection(store.access('MAPPED', 2));
    assert.equal(tampered.code, ErrorCodes.CHECKSUM_MISMATCH);
    assert.ok(!JSON.stringify({ m: tampered.message, d: tampered.details }).includes('fake-mapped'));
    assert.ok(same((await store.access('MAPPED', 2)).value, Buffer.from('fake-mapped-value-2')));

    assert.equal((await store.destroyVersion('MAPPED', 1)).state, 'destroyed');
    assert.deepEqual((await store.versions('MAPPED')).map((v) => `${v.version}:${v.state}`), ['1:destroyed', '2:enabled']);
    assert.equal((await rejection(store.access('MAPPED', 1))).code, ErrorCodes.VERSION_DISABLED);
  });

  it('rotates a randomSecret 5 times while a manager on gcpSecretManager serves it: 0 failed reads, each new version served', async (t) => {
    await seed(f, 'CHANGENOW_API_KEY', 'fake-changenow-key-1');
    const store = gcpRotationStore({ project: PROJECT, client: f.client });
    // Readers pinned to an alias would follow `current`: the finish moves it, through versionAliases.
    const seeded = await store.getSecret('CHANGENOW_API_KEY');
    await store.updateSecret('CHANGENOW_API_KEY', { aliases: { current: 1 } }, { ifEtag: seeded.etag });

    const source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
    const ks = createKeyshift(declaration, { source, logger: false, minRefreshIntervalMs: 50 });
    const push = await startPushServer(gcpPubSubPushHandler({ source, token: TOKEN }));
    const unsubscribe = f.emulator.addPushSubscription({ url: push.url, bearerToken: TOKEN });
    await ks.ready();
    const reads = { ok: 0, failed: 0 };
    /** Version -> when the manager's status first showed it. */
    const firstServed = new Map<string, number>();
    const reader = setInterval(() => {
      const version = ks.status().entries[0]?.version;
      if (version !== undefined && !firstServed.has(version)) firstServed.set(version, performance.now());
      try {
        if (ks.get('CHANGENOW_API_KEY').reveal().length > 0) reads.ok++;
      } catch {
        reads.failed++;
      }
    }, 1);
    t.after(async () => {
      clearInterval(reader);
      unsubscribe();
      await ks.close();
      await push.close();
    });

    /** Version -> when its AddSecretVersion answered (instrumentation around the real store). */
    const putAt = new Map<string, number>();
    const timed: RotationStore = {
      ...store,
      async put(...args: Parameters<RotationStore['put']>) {
        const added = await store.put(...args);
        if (args[0] === 'CHANGENOW_API_KEY') putAt.set(String(added.version), performance.now());
        return added;
      },
    };
    const runner = createRotationRunner({ store: timed, logger: false });
    const served: number[] = [];
    const durations: number[] = [];
    for (let n = 1; n <= 5; n++) {
      const result: RotationResult = await runner.run('CHANGENOW_API_KEY', randomSecret({ prefix: 'cn_fake_' }));
      assert.equal(result.outcome, 'finished', `rotation ${n}: ${result.error?.code ?? ''}`);
      assert.equal(result.version, n + 1);
      durations.push(result.durationMs);
      await waitUntil(`version ${n + 1} served`, () => ks.status().entries[0]?.version === String(n + 1));
      served.push((firstServed.get(String(n + 1)) ?? performance.now()) - (putAt.get(String(n + 1)) ?? 0));
      const stored = await store.access('CHANGENOW_API_KEY', n + 1);
      assert.ok(ks.get('CHANGENOW_API_KEY').reveal() === Buffer.from(stored.value).toString('utf8'), `the manager serves version ${n + 1}'s value`);
    }
    clearInterval(reader);
    assert.equal(reads.failed, 0);
    assert.ok(reads.ok > 0);

    const info = await store.getSecret('CHANGENOW_API_KEY');
    assert.equal(info.latest, 6);
    assert.deepEqual(info.aliases, { current: 6, previous: 5 });
    const record = await store.getSecret('CHANGENOW_API_KEY__PENDING');
    assert.equal(readState(record), undefined, 'no rotation left under way');
    assert.equal((record.extra.lastRotation as { version?: number }).version, 6);
    const pending = await store.versions('CHANGENOW_API_KEY__PENDING');
    assert.deepEqual(pending.map((v) => v.state), Array(5).fill('destroyed'), 'every pending value destroyed after its rotation');
    t.diagnostic(
      `gcpRotationStore on the emulator: 5 rotations (${spread(durations)} each), new version served by the manager ${spread(served)} after its AddSecretVersion answered (push notification, then a read); ` +
        `${reads.failed} failed of ${reads.ok + reads.failed} reads`,
    );
  });

  it('a failing test step leaves latest untouched and the retry resumes at that stage', async () => {
    await seed(f, 'WEBHOOK_SECRET', 'fake-webhook-secret-1');
    const store = gcpRotationStore({ project: PROJECT, client: f.client });
    const runner = createRotationRunner({ store, logger: false });
    const stages: string[] = [];
    runner.on('stage', ({ stage }) => stages.push(stage));
    let probeUp = false;
    const rotator = randomSecret({
      prefix: 'wh_fake_',
      test: async () => {
        if (!probeUp) throw new Error('fake probe refused the pending value');
      },
    });

    const failed = await runner.run('WEBHOOK_SECRET', rotator);
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.stage, 'test');
    assert.deepEqual(stages, ['create', 'set']);
    assert.equal((await store.getSecret('WEBHOOK_SECRET')).latest, 1, 'latest untouched');
    assert.ok(same((await store.access('WEBHOOK_SECRET', 'latest')).value, Buffer.from('fake-webhook-secret-1')));
    const record = await store.getSecret('WEBHOOK_SECRET__PENDING');
    const state = readState(record);
    assert.equal(state?.stage, 'test');
    assert.equal(state?.leaseUntil, 0, 'the failure released the lease');
    assert.equal(state?.lastError?.stage, 'test');
    assert.ok(record.annotations[GCP_EXTRA_ANNOTATION] === undefined, 'extra is read back out of its annotation');
    const pendingValue = (await store.access('WEBHOOK_SECRET__PENDING', state?.pending ?? 0)).value;

    probeUp = true;
    stages.length = 0;
    const resumed = await runner.run('WEBHOOK_SECRET', rotator);
    assert.equal(resumed.outcome, 'finished');
    assert.equal(resumed.rotationId, failed.rotationId, 'the same rotation, resumed');
    assert.equal(resumed.attempts, 2);
    assert.deepEqual(stages, ['test', 'finish', 'cleanup'], 'resumed at the test stage, no new pending value');
    assert.equal((await store.getSecret('WEBHOOK_SECRET__PENDING')).latest, 1, 'one pending value across both attempts');
    assert.equal(resumed.version, 2);
    assert.ok(same((await store.access('WEBHOOK_SECRET', 2)).value, pendingValue), 'the tested pending value is the one put');
  });

  it('two runners on two clients triggered together put exactly one new version per round (the etag lock), 10 rounds', async (t) => {
    await seed(f, 'PARTNER_TOKEN', 'fake-partner-token-1');
    const clients = [new SecretManagerServiceClient(f.emulator.clientOptions()), new SecretManagerServiceClient(f.emulator.clientOptions())];
    t.after(() => Promise.all(clients.map((c) => c.close())));
    const stores = clients.map((client) => countingConflicts(gcpRotationStore({ project: PROJECT, client })));
    const runners = stores.map(({ store }, i) => createRotationRunner({ store, logger: false, holder: `runner-${i}` }));
    const reader = gcpRotationStore({ project: PROJECT, client: f.client });
    const outcomes = new Map<string, number>();
    let claimsLost = 0;
    for (let round = 1; round <= 10; round++) {
      // Even rounds: every UpdateSecret is held 40 ms, so both runners read the same etag
      // before either write lands and only the service's etag check can refuse the second claim.
      const slow = round % 2 === 0 ? f.emulator.faults.inject('UpdateSecret', { latencyMs: 40 }) : () => {};
      const latest = (await reader.getSecret('PARTNER_TOKEN')).latest ?? 0;
      const before = stores.map((s) => s.conflicts.all);
      const results = await Promise.all(runners.map((r) => r.run('PARTNER_TOKEN', randomSecret({ prefix: 'pt_fake_' }), { ifLatest: latest })));
      slow();
      for (const r of results) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      assert.equal(results.filter((r) => r.outcome === 'finished').length, 1, `round ${round}: ${results.map((r) => r.outcome).join(', ')}`);
      results.forEach((r, i) => {
        if (r.outcome !== 'finished') claimsLost += stores[i]!.conflicts.all - before[i]!;
      });
      assert.equal((await reader.getSecret('PARTNER_TOKEN')).latest, latest + 1, `round ${round}: exactly one new version`);
      assert.equal(readState(await reader.getSecret('PARTNER_TOKEN__PENDING')), undefined);
    }
    const byService = stores.reduce((sum, s) => sum + s.conflicts.byService, 0);
    assert.ok(byService > 0, 'the service itself refused stale etags (not only the read before the write)');
    assert.equal((await reader.getSecret('PARTNER_TOKEN')).latest, 11);
    t.diagnostic(
      `two runners x 10 rounds (UpdateSecret held 40 ms in even rounds): outcomes ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; ` +
        `claims lost to the etag by the runner left out: ${claimsLost}; stale etags refused by the service (FAILED_PRECONDITION) in all: ${byService}; versions 1 -> 11`,
    );
  });
});
