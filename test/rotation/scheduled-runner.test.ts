// The staged rotation runner on a real local store: a random secret rotated while a
// fleet of managers serves it; a failing test step that leaves the current version
// current and is resumed at its stage; a lease that runs out after a crash; a finish
// that loses to a hand-made put; a rollback; and two processes triggered together.
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '../../src/index.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { copyVersion } from '../../src/rotation/staged/rotators/copy-version.ts';
import { ALPHABETS, randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import { createRotationRunner, type RotationEvents, readLastRotation, readState, type Rotator } from '../../src/rotation/staged/rotation-runner.ts';
import { spread, startFleet } from './_rotation-fleet.ts';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

describe('Staged rotation runner', () => {
  let dir: string;
  let store: LocalStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ks-rotation-'));
    store = await openLocalStore({ dir }); // the key file: the fleet and the child processes open the same store
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates a random secret 10 times while two instances serve it: each new version reaches both, the pending value is destroyed', async (t) => {
    await store.put('WEBHOOK_SECRET', 'fake-webhook-0');
    const fleet = await startFleet(dir, 'WEBHOOK_SECRET');
    t.after(() => fleet.close());
    const runner = createRotationRunner({ store, logger: false });
    const propagation: number[] = [];
    for (let r = 1; r <= 10; r++) {
      const trigger = performance.now();
      const result = await runner.run('WEBHOOK_SECRET', randomSecret({ length: 40, alphabet: 'hex', prefix: 'whsec_' }));
      assert.equal(result.outcome, 'finished', result.error?.message);
      assert.equal(result.version, r + 1);
      assert.equal(result.previousVersion, r);
      propagation.push(await fleet.serving(r + 1, trigger));
    }
    const info = await store.getSecret('WEBHOOK_SECRET');
    const record = await store.getSecret('WEBHOOK_SECRET__PENDING');
    assert.equal(readState(record), undefined);
    assert.deepEqual(info.aliases, {}, 'a secret read at latest is written once per rotation: its new version');
    assert.deepEqual(info.extra, {});
    assert.deepEqual({ ...readLastRotation(record), at: undefined }, { version: 11, previous: 10, rotator: 'random-secret', at: undefined });
    const value = text((await store.access('WEBHOOK_SECRET')).value);
    assert.match(value, /^whsec_[0-9a-f]{40}$/);
    const pending = await store.versions('WEBHOOK_SECRET__PENDING');
    assert.equal(pending.length, 10);
    assert.ok(pending.every((v) => v.state === 'destroyed'));
    assert.ok(fleet.served().every((versions) => versions.join() === ['1', ...Array.from({ length: 10 }, (_, i) => String(i + 2))].join()));
    t.diagnostic(
      `random-secret: 10 rotations, ${fleet.requests.failed} failed of ${fleet.requests.ok + fleet.requests.failed} reads during them, ` +
        `trigger to both instances serving the new version: ${spread(propagation)}`,
    );
    assert.equal(fleet.requests.failed, 0);
  });

  it('draws every character of the alphabet evenly (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const rotator = randomSecret({ alphabet: 'abcdefghij', length: 4096 });
    return rotator.create({} as never).then((value) => {
      for (const c of String(value)) counts.set(c, (counts.get(c) ?? 0) + 1);
      assert.equal(counts.size, 10);
      for (const n of counts.values()) assert.ok(n > 300 && n < 520, `a character was drawn ${n} times of 4096`);
      assert.equal(ALPHABETS.base64url.length, 64);
      assert.throws(() => randomSecret({ length: 8 }), { code: ErrorCodes.INVALID_DECLARATION });
      assert.throws(() => randomSecret({ alphabet: 'aa' }), { code: ErrorCodes.INVALID_DECLARATION });
    });
  });

  it('a failing test step leaves the current version in place and current; the next attempt, from another process, resumes at the test stage', async (t) => {
    await store.put('ADMIN_API_TOKEN', 'fake-admin-token-0');
    const fleet = await startFleet(dir, 'ADMIN_API_TOKEN');
    t.after(() => fleet.close());
    const calls = { create: 0, test: 0 };
    let failTest = true;
    const inner = randomSecret();
    const rotator: Rotator = {
      kind: inner.kind,
      create: (ctx) => {
        calls.create++;
        return inner.create(ctx);
      },
      async test() {
        calls.test++;
        if (failTest) throw new Error('the receiver refused it: fake-detail-that-must-not-leak');
      },
    };
    const alerts: RotationEvents['alert'][] = [];
    const runner = createRotationRunner({ store, logger: false, onAlert: (a) => alerts.push(a) });
    const failed = await runner.run('ADMIN_API_TOKEN', rotator);
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.stage, 'test');
    assert.equal(failed.error?.code, ErrorCodes.ROTATION_REFUSED);
    // The current version is untouched and still what every instance serves.
    const info = await store.getSecret('ADMIN_API_TOKEN');
    assert.equal(info.latest, 1);
    assert.equal(text((await store.access('ADMIN_API_TOKEN')).value), 'fake-admin-token-0');
    for (const ks of fleet.managers) {
      const [refreshed] = await ks.refresh();
      assert.equal(refreshed?.changed, false);
      assert.equal(refreshed?.version, '1');
    }
    const state = readState(await store.getSecret('ADMIN_API_TOKEN__PENDING'));
    assert.equal(state?.stage, 'test');
    assert.equal(state?.leaseUntil, 0);
    assert.equal(state?.lastError?.code, ErrorCodes.ROTATION_REFUSED);
    assert.equal(alerts.length, 1);
    assert.match(alerts[0]!.message, /failed at stage test.*version 1 stays in service.*resumes at stage test/);
    const pendingValue = text((await store.access('ADMIN_API_TOKEN__PENDING', state?.pending)).value);
    for (const leak of ['fake-detail-that-must-not-leak', pendingValue]) {
      assert.ok(!JSON.stringify(alerts).includes(leak) && !JSON.stringify(state).includes(leak));
    }

    // Another process (another store handle, another runner) resumes: no new value is created.
    failTest = false;
    const other = await openLocalStore({ dir });
    t.after(() => other.close());
    const trigger = performance.now();
    const resumed = await createRotationRunner({ store: other, logger: false }).run('ADMIN_API_TOKEN', rotator);
    assert.equal(resumed.outcome, 'finished', resumed.error?.message);
    assert.equal(resumed.attempts, 2);
    assert.deepEqual(calls, { create: 1, test: 2 });
    assert.equal(resumed.version, 2);
    assert.equal(text((await store.access('ADMIN_API_TOKEN')).value), pendingValue);
    const ms = await fleet.serving(2, trigger);
    t.diagnostic(`failed test step: 1 failed attempt, 0 versions served by it, resumed at stage test and served by both instances ${Math.round(ms)} ms after the retry`);
    assert.equal(fleet.requests.failed, 0);
  });

  it('a runner that dies mid-rotation holds its lease until it runs out; then another resumes at the recorded stage', async () => {
    await store.put('IPN_SECRET', 'fake-ipn-0');
    // Both runners read one injected clock: the lease runs out when the test moves the clock, not after a wall-clock
    // sleep that a loaded machine could stretch past the lease while the first runner is still working.
    let clock = Date.now();
    const now = (): number => clock;
    const leaseMs = 60_000;
    let created = 0;
    let diedAtSet!: () => void;
    const reachedSet = new Promise<void>((resolve) => {
      diedAtSet = resolve;
    });
    const hung: Rotator = {
      kind: 'random-secret',
      create: async () => {
        created++;
        return 'fake-ipn-1';
      },
      set: () => {
        diedAtSet();
        return new Promise<void>(() => {}); // the process "died" here
      },
    };
    const runnerA = createRotationRunner({ store, logger: false, leaseMs, now });
    void runnerA.run('IPN_SECRET', hung);
    await reachedSet;
    const runnerB = createRotationRunner({ store, logger: false, leaseMs, now });
    const stagesRunByB: string[] = [];
    runnerB.on('stage', ({ stage }) => stagesRunByB.push(stage));
    const resume: Rotator = { kind: 'random-secret', create: async () => 'never-used' };
    const busy = await runnerB.run('IPN_SECRET', resume);
    assert.deepEqual([busy.outcome, busy.stage, busy.retryAt], ['busy', 'set', clock + leaseMs]);
    clock = busy.retryAt! - 1;
    const stillBusy = await runnerB.run('IPN_SECRET', resume);
    assert.deepEqual([stillBusy.outcome, stillBusy.stage], ['busy', 'set'], 'the lease holds until its last millisecond');
    assert.equal(text((await store.access('IPN_SECRET')).value), 'fake-ipn-0', 'nothing served while the lease holds');
    clock = busy.retryAt!;
    const result = await runnerB.run('IPN_SECRET', resume);
    assert.equal(result.outcome, 'finished', result.error?.message);
    assert.equal(result.attempts, 2);
    assert.deepEqual(stagesRunByB, ['set', 'test', 'finish', 'cleanup'], 'resumed at the recorded stage: create is not run again');
    assert.equal(created, 1);
    assert.equal(text((await store.access('IPN_SECRET')).value), 'fake-ipn-1');
  });

  it('refuses to resume another kind of rotation, and --abandon drops it without touching the current version', async () => {
    await store.put('SIGNUP_SECRET_KEY', 'fake-signup-0');
    const runner = createRotationRunner({ store, logger: false });
    const failing: Rotator = { kind: 'random-secret', create: async () => 'fake-signup-1', test: async () => Promise.reject(new Error('no')) };
    assert.equal((await runner.run('SIGNUP_SECRET_KEY', failing)).outcome, 'failed');
    const other = await runner.run('SIGNUP_SECRET_KEY', copyVersion(1));
    assert.equal(other.outcome, 'failed');
    assert.match(other.error?.message ?? '', /random-secret rotation .* is under way \(stage test\).*--abandon/);
    const dropped = await runner.abandon('SIGNUP_SECRET_KEY');
    assert.equal(dropped?.stage, 'test');
    assert.equal(readState(await store.getSecret('SIGNUP_SECRET_KEY__PENDING')), undefined);
    assert.equal((await store.getSecret('SIGNUP_SECRET_KEY')).latest, 1);
    assert.equal((await store.versions('SIGNUP_SECRET_KEY__PENDING'))[0]?.state, 'destroyed');
  });

  it('a finish that loses to a hand-made put drops the rotation and keeps the hand-made version', async () => {
    await store.put('JWT_SECRET_KEY', 'fake-jwt-0');
    const alerts: RotationEvents['alert'][] = [];
    const runner = createRotationRunner({ store, logger: false, onAlert: (a) => alerts.push(a) });
    const racing: Rotator = {
      kind: 'random-secret',
      create: async () => 'fake-jwt-rotated',
      test: async () => void (await store.put('JWT_SECRET_KEY', 'fake-jwt-by-hand')),
    };
    const result = await runner.run('JWT_SECRET_KEY', racing);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.stage, 'finish');
    assert.equal(result.error?.code, ErrorCodes.CONFLICT);
    assert.equal(text((await store.access('JWT_SECRET_KEY')).value), 'fake-jwt-by-hand');
    assert.equal(readState(await store.getSecret('JWT_SECRET_KEY__PENDING')), undefined);
    assert.match(alerts[0]?.message ?? '', /rotation was dropped/);
  });

  it('rolls back by copying the previous version into a new one; moves the current and previous aliases of a secret that has them', async () => {
    await store.put('SENDGRID_API_KEY', 'fake-sendgrid-0');
    await store.updateSecret('SENDGRID_API_KEY', { aliases: { current: 1 } });
    const runner = createRotationRunner({ store, logger: false });
    assert.equal((await runner.run('SENDGRID_API_KEY', randomSecret())).version, 2);
    const back = await runner.run('SENDGRID_API_KEY', copyVersion('previous'));
    assert.equal(back.outcome, 'finished');
    assert.equal(back.version, 3);
    assert.equal(text((await store.access('SENDGRID_API_KEY')).value), 'fake-sendgrid-0');
    assert.deepEqual((await store.getSecret('SENDGRID_API_KEY')).aliases, { current: 3, previous: 2 });
    assert.equal((await runner.run('SENDGRID_API_KEY', copyVersion(3))).error?.code, ErrorCodes.ROTATION_REFUSED);
  });

  it('two processes triggered together produce one new version, never two (20 rounds)', async (t) => {
    await store.put('NOWPAYMENTS_IPN_SECRET', 'fake-np-0');
    const children: ChildProcess[] = [0, 1].map(() =>
      fork(fileURLToPath(new URL('./_rotation-race-child.ts', import.meta.url)), [dir, 'NOWPAYMENTS_IPN_SECRET'], {
        execArgv: ['--import', 'tsx', '--unhandled-rejections=strict'],
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    const next = (child: ChildProcess): Promise<{ type: string; outcome?: string; version?: number }> =>
      new Promise((resolve) => child.once('message', resolve as never));
    t.after(() => {
      for (const child of children) if (child.connected) child.send({ type: 'stop' });
    });
    await Promise.all(children.map(next));
    const outcomes = new Map<string, number>();
    for (let round = 1; round <= 20; round++) {
      const latest = (await store.getSecret('NOWPAYMENTS_IPN_SECRET')).latest ?? 0;
      const condition = round % 2 === 0 ? { ifLatest: latest } : { ifUnrotatedSince: Date.now() - 1 };
      const answers = Promise.all(children.map(next));
      for (const child of children) child.send({ type: 'go', condition });
      const results = await answers;
      for (const r of results) outcomes.set(r.outcome ?? '', (outcomes.get(r.outcome ?? '') ?? 0) + 1);
      assert.equal(results.filter((r) => r.outcome === 'finished').length, 1, JSON.stringify(results));
      assert.equal((await store.getSecret('NOWPAYMENTS_IPN_SECRET')).latest, latest + 1);
    }
    await Promise.all(children.map((child) => new Promise((resolve) => (child.connected ? child.once('exit', resolve).send({ type: 'stop' }) : resolve(null)))));
    t.diagnostic(`race: 20 rounds of two processes triggered together, 20 new versions; the other run: ${JSON.stringify(Object.fromEntries(outcomes))}`);
  });
});
