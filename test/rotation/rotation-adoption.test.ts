// A staged rotation composed with canary adoption (issue 16, docs/rotation.md "Rotation and
// canary adoption"): with `adoption`, the rotation finishes (and its cleanup runs) only once
// the fleet has adopted the new version, and a halted rollout of that version fails the
// rotation, leaves the previous version served and never runs the cleanup. A fleet of 10
// managers with a canary policy on the same local store, on a fake clock for their bake;
// the runner's wall clock is injected.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adoptionSlot } from '../../src/core/adoption.ts';
import { writeRolloutMarker } from '../../src/core/rollout-marker.ts';
import { createKeyshift, defineSecrets, ErrorCodes, KeyshiftError, t } from '../../src/index.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { copyVersion } from '../../src/rotation/staged/rotators/copy-version.ts';
import { randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import { createRotationRunner, type RotationEvents, readState, type Rotator } from '../../src/rotation/staged/rotation-runner.ts';
import { createRotationScheduler } from '../../src/rotation/staged/rotation-scheduler.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { createFakeClock, flush } from '../../src/testing/index.ts';
import { holdOpen } from '../_hold-open.ts';

const NAME = 'PARTNER_API_TOKEN';
const N = 10;
const BAKE = 60_000;
const MARGIN = 5_000;

describe('Staged rotation with canary adoption', () => {
  let dir: string;
  let store: LocalStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ks-rotation-adoption-'));
    store = await openLocalStore({ dir });
    await store.put(NAME, 'fake-partner-token-initial-0000');
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** 10 instances; ids chosen (deterministically) so the first slice of version 3 holds at least one. */
  function fleet() {
    let salt = 0;
    const ids = (s: number) => Array.from({ length: N }, (_, i) => `rot-${s}-${i}`);
    while (!ids(salt).some((id) => adoptionSlot(id, NAME, '3') < 0.2)) salt++;
    const clock = createFakeClock();
    const decl = defineSecrets({ [NAME]: { type: t.string(), category: 'api-key', ttlMs: 3_600_000, adoption: { steps: [0.2, 0.5], bakeMs: BAKE, maxFailures: 2 } } });
    const managers = ids(salt).map((instanceId) => createKeyshift(decl, { source: localStore({ dir }), clock, logger: false, instanceId, minRefreshIntervalMs: 1 }));
    const versions = () => managers.map((ks) => ks.status().entries[0]?.version);
    const notify = async () => {
      await Promise.all(managers.map((ks) => ks.refresh(NAME)));
      await clock.tick(2);
    };
    return { clock, managers, versions, notify, close: () => Promise.all(managers.map((ks) => ks.close())) };
  }

  function rotator(cleaned: number[]): Rotator {
    return {
      ...randomSecret({ length: 32, prefix: 'fake-partner-' }),
      async cleanup(ctx) {
        cleaned.push(ctx.version);
      },
    };
  }

  it('finishes only once the fleet adopted the version; a halted rollout fails it (KS_ERR_ROLLOUT_HALTED), the old version stays served, no cleanup', async () => {
    let wall = Date.now();
    const events: string[] = [];
    const alerts: Array<RotationEvents['alert']> = [];
    const runner = createRotationRunner({ store, logger: false, now: () => wall, adoption: { bakeMs: BAKE, marginMs: MARGIN }, onAlert: (a) => alerts.push(a) });
    runner.on('finished', (e) => events.push(`finished:${e.version}`));
    runner.on('failed', (e) => events.push(`failed:${e.error.code}`));
    const f = fleet();
    await Promise.all(f.managers.map((ks) => ks.ready()));
    const cleaned: number[] = [];
    try {
      // a good version: put at once, served by slices, the rotation waits for the bake
      const first = await runner.run(NAME, rotator(cleaned));
      assert.deepEqual([first.outcome, first.waitingFor, first.stage, first.version, first.previousVersion], ['waiting', 'adoption', 'cleanup', 2, 1]);
      const created = Date.parse((await store.versions(NAME)).find((v) => v.version === 2)!.createTime);
      assert.equal(first.retryAt, created + BAKE + MARGIN, 'the bake and the margin, from the version creation');
      assert.deepEqual(cleaned, [], 'no cleanup before the fleet adopted it');
      await f.notify();
      const early = f.versions().filter((v) => v === '2').length;
      assert.ok(early < N, `the first slice only (${early}/${N})`);
      wall += BAKE / 2;
      const etag = (await store.getSecret(`${NAME}__PENDING`)).etag;
      const baking = await runner.run(NAME, rotator(cleaned));
      assert.deepEqual([baking.outcome, baking.waitingFor, baking.retryAt], ['waiting', 'adoption', first.retryAt], 'still baking');
      assert.equal((await store.getSecret(`${NAME}__PENDING`)).etag, etag, 'a run that finds the version baking writes nothing');
      await f.clock.tick(BAKE);
      assert.deepEqual(f.versions(), Array(N).fill('2'), 'every instance serves it after the bake');
      wall = created + BAKE + MARGIN;
      const done = await runner.run(NAME, rotator(cleaned));
      assert.deepEqual([done.outcome, done.version, done.previousVersion], ['finished', 2, 1]);
      assert.deepEqual(cleaned, [2], 'the cleanup ran once the fleet adopted it');

      // a version the application rejects: the first slice reports failures, halts, marks the store
      wall = Date.now(); // the store stamps versions with the real time
      const second = await runner.run(NAME, rotator(cleaned));
      assert.deepEqual([second.outcome, second.waitingFor, second.version], ['waiting', 'adoption', 3]);
      await f.notify();
      const slice = f.managers.filter((ks) => ks.status().entries[0]?.version === '3');
      assert.ok(slice.length >= 1 && slice.length < N);
      for (const ks of slice) for (let i = 0; i < 2; i++) ks.reportFailure(NAME);
      await holdOpen(
        (async () => {
          while (!(await store.getSecret(NAME)).annotations['keyshift-rollout']?.includes('"halted"')) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
      );
      await flush();
      const halted = await runner.run(NAME, rotator(cleaned));
      assert.equal(halted.outcome, 'failed');
      assert.equal(halted.stage, 'cleanup');
      assert.ok(halted.error instanceof KeyshiftError);
      assert.equal(halted.error.code, ErrorCodes.ROLLOUT_HALTED);
      assert.match(halted.error.message, /rollout of version 3 was halted \(2 failures reported during the bake\); the fleet serves version 2 again/);
      assert.match(halted.error.message, new RegExp(`keyshift rotate ${NAME} --abandon, then keyshift rotate ${NAME} --rollback`));
      assert.match(alerts.at(-1)?.message ?? '', /KS_ERR_ROLLOUT_HALTED/);
      assert.equal(readState(await store.getSecret(`${NAME}__PENDING`))?.lastError?.code, ErrorCodes.ROLLOUT_HALTED, '--status shows it');
      await f.notify();
      assert.deepEqual(f.versions(), Array(N).fill('2'), 'the old version stays served everywhere');
      await f.clock.tick(2 * BAKE);
      assert.deepEqual(f.versions(), Array(N).fill('2'), 'nobody adopts it after the bake');
      wall += 2 * BAKE;
      assert.equal((await runner.run(NAME, rotator(cleaned))).error?.code, ErrorCodes.ROLLOUT_HALTED, 'still failed while the marker stays');
      assert.deepEqual(cleaned, [2], 'the old credential was never cleaned up');
      assert.deepEqual(events, ['finished:2', 'finished:3', `failed:${ErrorCodes.ROLLOUT_HALTED}`, `failed:${ErrorCodes.ROLLOUT_HALTED}`]);

      // an operator resumes the rollout: the rotation waits a whole bake again, from that run on
      await writeRolloutMarker(store, NAME, undefined);
      const resumed = await runner.run(NAME, rotator(cleaned));
      assert.deepEqual([resumed.outcome, resumed.waitingFor, resumed.retryAt], ['waiting', 'adoption', wall + BAKE + MARGIN]);
      wall += BAKE + MARGIN;
      const finished = await runner.run(NAME, rotator(cleaned));
      assert.deepEqual([finished.outcome, finished.version], ['finished', 3]);
      assert.deepEqual(cleaned, [2, 3]);
    } finally {
      await f.close();
    }
  });

  it('the rollback path after a halt: abandon (no cleanup), then a rollback puts the previous value as a new version', async () => {
    let wall = Date.now();
    const runner = createRotationRunner({ store, logger: false, now: () => wall, adoption: { bakeMs: BAKE, marginMs: MARGIN } });
    const cleaned: number[] = [];
    const before = await store.access(NAME, 'latest');
    const put = await runner.run(NAME, rotator(cleaned));
    assert.equal(put.outcome, 'waiting');
    await writeRolloutMarker(store, NAME, { version: String(put.version), state: 'halted', reason: 'halted by an operator' });
    wall += 1_000;
    assert.equal((await runner.run(NAME, rotator(cleaned))).error?.code, ErrorCodes.ROLLOUT_HALTED);
    assert.ok(await runner.abandon(NAME));
    const back = await createRotationRunner({ store, logger: false }).run(NAME, copyVersion('previous'));
    assert.equal(back.outcome, 'finished', back.error?.message);
    const latest = await store.access(NAME, 'latest');
    assert.equal(latest.version, (put.version ?? 0) + 1);
    assert.ok(Buffer.from(latest.value).equals(Buffer.from(before.value)), 'the latest value is the one before the halted version');
    assert.deepEqual(cleaned, [], 'the halted rotation never cleaned up');
  });

  it('a scheduled rotation with adoption waits, fails on a halt, and one without adoption is not held', async () => {
    await store.put('OTHER_TOKEN', 'fake-other-token-0000000000');
    const clock = createFakeClock(); // its wall clock is before the versions the store stamps: they bake
    const scheduler = createRotationScheduler({
      store,
      clock,
      logger: false,
      rotations: [
        { name: NAME, rotator: randomSecret(), adoption: { bakeMs: BAKE, marginMs: MARGIN } },
        { name: 'OTHER_TOKEN', rotator: randomSecret() },
      ],
    });
    try {
      const waiting = await scheduler.rotate(NAME);
      assert.deepEqual([waiting.outcome, waiting.waitingFor], ['waiting', 'adoption']);
      assert.equal((await scheduler.rotate('OTHER_TOKEN')).outcome, 'finished', 'no adoption: finished at its put');
      await writeRolloutMarker(store, NAME, { version: String(waiting.version), state: 'halted', reason: 'halted by an operator' });
      const failed = await scheduler.rotate(NAME);
      assert.equal(failed.error?.code, ErrorCodes.ROLLOUT_HALTED);
      assert.ok(await scheduler.runner.abandon(NAME));
    } finally {
      await scheduler.close();
    }
  });

  it('refuses a bad adoption option at construction, and without it a rotation finishes at its put as before', async () => {
    assert.throws(() => createRotationRunner({ store, adoption: { bakeMs: 0 } }), (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION && /bakeMs/.test(e.message));
    assert.throws(() => createRotationRunner({ store, adoption: { bakeMs: 1_000, marginMs: -1 } }), (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION);
    assert.throws(
      () => createRotationScheduler({ store, rotations: [{ name: NAME, rotator: randomSecret(), adoption: { bakeMs: Number.NaN } }] }),
      (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION,
    );
    const plain = await createRotationRunner({ store, logger: false }).run(NAME, randomSecret());
    assert.equal(plain.outcome, 'finished');
  });
});
