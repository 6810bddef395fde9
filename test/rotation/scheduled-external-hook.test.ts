// The external hook rotator against the local ChangeNow stand-in (examples/pgp), with
// the hook the PGP demo runs: the provider issues a new key, the test step calls the
// provider with it, the finish makes it the current version, and the old key is revoked
// at the provider. Two instances call the provider with whatever key they serve, all
// along; a failing test step leaves the current key serving, and the retry resumes
// with the key already issued.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { changeNowClient, type ChangeNowKeyHolder } from '../../examples/pgp/clients/changenow-client.ts';
import { changeNowHook } from '../../examples/pgp/demo/changenow-hook.ts';
import { type ChangeNowServer, startChangeNowServer } from '../../examples/pgp/stand-ins/changenow-server.ts';
import { ErrorCodes } from '../../src/index.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { externalHook } from '../../src/rotation/staged/rotators/external-hook.ts';
import { createRotationRunner, type RotationEvents, readLastRotation, readState } from '../../src/rotation/staged/rotation-runner.ts';
import { waitUntil } from './_pg-load.ts';
import { type Fleet, spread, startFleet } from './_rotation-fleet.ts';

const ENTRY = 'CHANGENOW_API_KEY';
const GRACE_MS = 60_000;
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** The provider, with a clock the test moves forward (grace periods, activation delays). */
async function provider(apiKey: string): Promise<{ standIn: ChangeNowServer; advance(ms: number): void }> {
  let skew = 0;
  const standIn = await startChangeNowServer({ apiKey, graceMs: GRACE_MS, now: () => performance.now() + skew });
  return {
    standIn,
    advance: (ms) => {
      skew += ms;
    },
  };
}

/** Each instance calls the provider in a loop with the key it serves (read at every call, no retry on 401). */
function providerLoad(fleet: Fleet, standIn: ChangeNowServer) {
  const calls = { ok: 0, failed: 0 };
  const done = fleet.managers.map(() => 0);
  let running = true;
  const loops = fleet.managers.map(async (ks, i) => {
    const client = changeNowClient({ secrets: ks as unknown as ChangeNowKeyHolder, baseUrl: standIn.url, refreshOnUnauthorized: false });
    while (running) {
      try {
        await client.estimate({ from: 'usdt', to: 'eth', amount: '10' });
        calls.ok++;
      } catch {
        calls.failed++;
        await yieldToLoop(); // a closed manager fails at once: never starve the event loop
      }
      done[i]!++;
    }
  });
  return {
    calls,
    /** Resolves once every instance has completed two more calls: none still carries a key read before now. */
    async settled(): Promise<void> {
      const start = [...done];
      await waitUntil('two more provider calls from every instance', () => done.every((n, i) => n >= start[i]! + 2));
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** A call with `key`, as the hook's verify makes it: the HTTP status. */
async function statusWith(standIn: ChangeNowServer, key: string): Promise<number> {
  const response = await fetch(`${standIn.url}/exchange/by-id?id=probe`, { headers: { 'x-changenow-api-key': key } });
  await response.body?.cancel();
  return response.status;
}

describe('External hook rotator against the ChangeNow stand-in', () => {
  let root: string;
  let dir: string;
  let store: LocalStore;
  let stores = 0;
  /** A store of its own for each test: both rotate CHANGENOW_API_KEY, the entry the ChangeNow client reads. */
  const freshStore = async (): Promise<void> => {
    await store?.close();
    dir = join(root, `store-${++stores}`);
    store = await openLocalStore({ dir });
  };
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ks-hook-'));
    await freshStore();
  });
  after(async () => {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('rotates the ChangeNow key 5 times while two instances call the provider: issued, tested, made current, old key revoked; no call of an instance refused', async (t) => {
    const first = 'cn_seed_key_for_the_hook_test';
    const { standIn, advance } = await provider(first);
    await store.put(ENTRY, first);
    const fleet = await startFleet(dir, ENTRY);
    const load = providerLoad(fleet, standIn);
    t.after(async () => {
      await load.stop(); // first: the calls stop before the instances and the provider close
      await fleet.close();
      await standIn.close();
    });
    const runner = createRotationRunner({ store, logger: false });
    const stages: string[] = [];
    runner.on('stage', (e) => stages.push(e.stage));
    const rotator = changeNowHook(standIn);
    assert.equal(rotator.kind, 'external-hook:changenow');
    const propagation: number[] = [];
    const keys = [first];
    for (let r = 1; r <= 5; r++) {
      stages.length = 0;
      const trigger = performance.now();
      const result = await runner.run(ENTRY, rotator);
      assert.equal(result.outcome, 'finished', result.error?.message);
      assert.equal(result.version, r + 1);
      assert.deepEqual(stages, ['create', 'set', 'test', 'finish', 'cleanup']);
      propagation.push(await fleet.serving(r + 1, trigger));
      const key = text((await store.access(ENTRY)).value);
      assert.match(key, /^cn_live_[0-9a-f]{32}$/, 'the new version is the key the provider issued');
      keys.push(key);
      // The old key was revoked: it works through the provider's grace, then never again.
      await load.settled();
      advance(GRACE_MS);
      assert.equal(await statusWith(standIn, keys.at(-2)!), 401);
      assert.equal(await statusWith(standIn, key), 200);
    }
    await load.settled();
    await load.stop();
    assert.equal(new Set(keys).size, 6);
    assert.deepEqual({ ...readLastRotation(await store.getSecret(`${ENTRY}__PENDING`)), at: undefined }, {
      version: 6,
      previous: 5,
      rotator: 'external-hook:changenow',
      at: undefined,
    });
    const pending = await store.versions(`${ENTRY}__PENDING`);
    assert.ok(pending.length === 5 && pending.every((v) => v.state === 'destroyed'), 'every issued key kept as pending is destroyed');
    t.diagnostic(
      `external-hook (changenow stand-in): 5 rotations, ${load.calls.failed} failed of ${load.calls.ok + load.calls.failed} provider calls ` +
        `and ${fleet.requests.failed} failed of ${fleet.requests.ok + fleet.requests.failed} reads during them, ` +
        `trigger to both instances serving the new key: ${spread(propagation)}`,
    );
    assert.ok(load.calls.ok > 0);
    assert.equal(load.calls.failed, 0);
    assert.equal(standIn.stats.refused, 5, 'the only calls refused: the 5 probes with a key past its grace');
    assert.equal(fleet.requests.failed, 0);
  });

  it('a failing test step (the provider has not activated the new key) leaves the current key serving; the retry tests the same key and finishes', async (t) => {
    await freshStore();
    const first = 'cn_seed_key_for_the_failing_hook';
    const { standIn, advance } = await provider(first);
    await store.put(ENTRY, first);
    const fleet = await startFleet(dir, ENTRY);
    const issued: string[] = [];
    // The same hook, on a provider that activates new keys a minute after issuing them.
    const hook = changeNowHook({
      url: standIn.url,
      issueKey: () => {
        const key = standIn.issueKey({ activeAfterMs: 60_000 });
        issued.push(key);
        return key;
      },
      revokeKey: (key) => standIn.revokeKey(key),
    });
    const load = providerLoad(fleet, standIn);
    t.after(async () => {
      await load.stop(); // first: the calls stop before the instances and the provider close
      await fleet.close();
      await standIn.close();
    });
    const alerts: RotationEvents['alert'][] = [];
    const runner = createRotationRunner({ store, logger: false, onAlert: (a) => alerts.push(a) });

    const failed = await runner.run(ENTRY, hook);
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.stage, 'test');
    assert.equal(failed.error?.code, ErrorCodes.ROTATION_REFUSED);
    assert.equal(issued.length, 1);
    // The current version is untouched: still the latest, still what both instances serve, still accepted.
    assert.equal((await store.getSecret(ENTRY)).latest, 1);
    assert.equal(text((await store.access(ENTRY)).value), first);
    for (const ks of fleet.managers) {
      const [refreshed] = await ks.refresh();
      assert.equal(refreshed?.changed, false);
      assert.equal(refreshed?.version, '1');
    }
    await load.settled();
    assert.equal(await statusWith(standIn, first), 200);
    assert.equal(await statusWith(standIn, issued[0]!), 401, 'not active yet');
    const state = readState(await store.getSecret(`${ENTRY}__PENDING`));
    assert.equal(state?.stage, 'test');
    assert.equal(state?.lastError?.code, ErrorCodes.ROTATION_REFUSED);
    assert.equal(alerts.length, 1);
    assert.match(alerts[0]!.message, /external-hook:changenow\) failed at stage test.*version 1 stays in service.*resumes at stage test/);
    for (const leak of [first, issued[0]!, 'HTTP 401']) {
      assert.ok(!JSON.stringify(alerts).includes(leak) && !JSON.stringify(state).includes(leak), 'an alert or the record carries a key or the hook message');
    }

    // The provider activates the key; the retry resumes at the test stage with the key already issued.
    advance(60_000);
    const trigger = performance.now();
    const resumed = await runner.run(ENTRY, hook);
    assert.equal(resumed.outcome, 'finished', resumed.error?.message);
    assert.equal(resumed.attempts, 2);
    assert.equal(issued.length, 1, 'the provider was not asked for a second key');
    assert.equal(resumed.version, 2);
    assert.equal(text((await store.access(ENTRY)).value), issued[0]);
    const ms = await fleet.serving(2, trigger);
    await load.settled();
    advance(GRACE_MS);
    assert.equal(await statusWith(standIn, first), 401, 'the old key is revoked after its grace');
    await load.settled();
    await load.stop();
    t.diagnostic(
      `external-hook failed test step: 1 failed attempt, 0 versions served by it, ${load.calls.failed} failed of ${load.calls.ok + load.calls.failed} provider calls, ` +
        `resumed at stage test and served by both instances ${Math.round(ms)} ms after the retry`,
    );
    assert.equal(load.calls.failed, 0);
    assert.equal(fleet.requests.failed, 0);
  });

  it('refuses a bad provider name and an issue hook that returns no key', async () => {
    assert.throws(() => externalHook({ provider: 'change now', issue: async () => 'k' }), { code: ErrorCodes.INVALID_DECLARATION });
    await store.put('EMPTY_HOOK_KEY', 'cn_seed_key_for_the_empty_hook');
    const runner = createRotationRunner({ store, logger: false });
    const result = await runner.run('EMPTY_HOOK_KEY', externalHook({ provider: 'changenow', issue: async () => '' }));
    assert.equal(result.outcome, 'failed');
    assert.equal(result.stage, 'create');
    assert.equal((await store.getSecret('EMPTY_HOOK_KEY')).latest, 1);
    assert.ok(await runner.abandon('EMPTY_HOOK_KEY'));
  });
});
