// The HMAC keyring rotator across two processes that share a local store, each with
// its admin surface: the new key is published verify-only, the promotion waits until
// both instances' status serve it (B learns it late), a token signed by the new key is
// checked against the published keyset, and after the overlap the old key is retired.
// Both processes mint tokens throughout; each verifies the other's. Nothing depends on
// how fast a loaded machine runs: the children's keyring clock stands still (a token in
// transit never expires), every token minted before the promotion reached both instances
// is verified before the cleanup retires the old key, and the waits are for states.
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openLocalStore } from '../../src/local-store/index.ts';
import { createKeyset, type Keyset, serializeKeyset } from '../../src/rotation/keyring/hmac-keyring.ts';
import { servedVersions } from '../../src/rotation/staged/rotation-verifier.ts';
import { hmacKeyringRotator } from '../../src/rotation/staged/rotators/keyring-rotator.ts';
import { createRotationRunner, type RotationEvents } from '../../src/rotation/staged/rotation-runner.ts';
import { waitUntil } from './_pg-load.ts';
import { ADMIN_TOKEN, ENTRY, type FromChild, OVERLAP_MS, type ToChild } from './_scheduled-keyring-child.ts';

interface Instance {
  child: ChildProcess;
  url: string;
  minted: number;
  verified: number;
  failed: Array<{ reason: string; kid?: string }>;
  send(message: ToChild): void;
}

const WAIT_MS = 60_000;

async function start(role: 'A' | 'B', dir: string, wallNow: number): Promise<Instance> {
  const child = fork(fileURLToPath(new URL('./_scheduled-keyring-child.ts', import.meta.url)), [role, dir, String(wallNow)], {
    execArgv: ['--import', 'tsx', '--unhandled-rejections=strict'],
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve) => child.once('message', (m: FromChild) => resolve(m.type === 'ready' ? m.url : '')));
  const send = (m: ToChild): void => {
    if (child.connected) child.send(m, () => undefined);
  };
  const instance: Instance = { child, url, minted: 0, verified: 0, failed: [], send };
  child.on('message', (m: FromChild) => {
    if (m.type === 'verified') {
      instance.verified += m.ok;
      instance.failed.push(...m.failed);
    }
  });
  return instance;
}

/** The versions of ENTRY an instance's admin status serves. */
async function served(instance: Instance): Promise<string[]> {
  const response = await fetch(`${instance.url}/admin/status`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return servedVersions(await response.json(), ENTRY);
}

describe('HMAC keyring rotator across two processes', () => {
  it('publishes, waits for both instances, promotes and retires, with every token of either process verifying on the other', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-keyring-rotation-'));
    const store = await openLocalStore({ dir });
    await store.put(ENTRY, serializeKeyset(createKeyset({ now: Date.now(), kid: 'k1' })));
    const wallNow = Date.now();
    const [a, b] = await Promise.all([start('A', dir, wallNow), start('B', dir, wallNow)]);
    t.after(async () => {
      for (const p of [a, b]) p.child.removeAllListeners('message');
      await Promise.all([a, b].map((p) => new Promise((resolve) => (p.child.connected ? p.child.once('exit', resolve) && p.send({ type: 'stop' }) : resolve(null)))));
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      from.child.on('message', (m: FromChild) => {
        if (m.type !== 'tokens') return;
        from.minted += m.tokens.length;
        to.send({ type: 'verify', tokens: m.tokens });
      });
    }
    a.send({ type: 'mint', on: true });
    b.send({ type: 'mint', on: true });

    const runner = createRotationRunner({ store, logger: false });
    const stages: Array<RotationEvents['stage'] & { bServes: string[] }> = [];
    const stageReads: Array<Promise<void>> = [];
    runner.on('stage', (e) => void stageReads.push(served(b).then((v) => void stages.push({ ...e, bServes: v }))));
    const rotator = hmacKeyringRotator({ overlapMs: OVERLAP_MS, instances: [a.url, b.url], adminToken: ADMIN_TOKEN, pollIntervalMs: 20 });
    const trigger = performance.now();
    const first = await runner.run(ENTRY, rotator);
    assert.equal(first.outcome, 'waiting', first.error?.message);
    assert.equal(first.version, 3, 'version 2 published the verify-only key, version 3 promoted it');
    const promoted = String(first.version);
    await waitUntil('both instances serve the promoted keyset', async () => (await Promise.all([served(a), served(b)])).every((v) => v.includes(promoted)), WAIT_MS);
    const toEveryInstanceMs = performance.now() - trigger;
    const keyset = JSON.parse(Buffer.from((await store.access(ENTRY)).value).toString('utf8')) as Keyset;
    const added = keyset.keys.find((k) => k.kid !== 'k1');
    assert.equal(added?.state, 'primary');
    assert.equal(keyset.keys.find((k) => k.kid === 'k1')?.state, 'verify-only');

    // Every k1 token (minted before both served the promotion) is verified before the cleanup drops k1.
    const synced = Promise.all([a, b].map((p) => new Promise((resolve) => p.child.on('message', (m: FromChild) => m.type === 'synced' && resolve(null)))));
    for (const p of [a, b]) p.send({ type: 'sync' });
    await synced;
    const [mintedByA, mintedByB] = [a.minted, b.minted];
    await waitUntil('every k1 token verified', () => b.verified + b.failed.length >= mintedByA && a.verified + a.failed.length >= mintedByB, WAIT_MS);

    await Promise.all(stageReads); // what B served at each stage's end was read before the cleanup could publish version 4

    // The cleanup waits for the overlap, then retires k1.
    await new Promise((r) => setTimeout(r, Math.max(0, (first.retryAt ?? 0) - Date.now() + 50)));
    const second = await runner.run(ENTRY, rotator);
    assert.equal(second.outcome, 'finished', second.error?.message);
    const retired = JSON.parse(Buffer.from((await store.access(ENTRY)).value).toString('utf8')) as Keyset;
    assert.equal(retired.keys.find((k) => k.kid === 'k1')?.state, 'retired');
    assert.equal(retired.keys.find((k) => k.kid === 'k1')?.material, undefined);
    await waitUntil('both instances serve the retired keyset', async () => (await Promise.all([served(a), served(b)])).every((v) => v.includes('4')), WAIT_MS);

    a.send({ type: 'mint', on: false });
    b.send({ type: 'mint', on: false });
    const stopped = Promise.all([a, b].map((p) => new Promise((resolve) => p.child.on('message', (m: FromChild) => m.type === 'synced' && resolve(null)))));
    for (const p of [a, b]) p.send({ type: 'sync' });
    await stopped; // every token minted before the stop has reached the test
    await waitUntil('every minted token verified', () => a.verified + a.failed.length === b.minted && b.verified + b.failed.length === a.minted, WAIT_MS);
    // The test stage ended only once B (the late instance) served the verify-only keyset.
    await Promise.all(stageReads);
    const tested = stages.find((s) => s.stage === 'test');
    assert.ok(tested?.bServes.includes('2') || tested?.bServes.includes('3'), JSON.stringify(stages));
    const failed = [...a.failed, ...b.failed];
    t.diagnostic(
      `hmac-keyring: 1 rotation (publish v2, promote v3, retire v4), ${failed.length} failed of ${a.minted + b.minted} cross-process verifications during it; ` +
        `trigger to both instances serving the promoted key: ${Math.round(toEveryInstanceMs)} ms (B reads 300 ms late); old key retired after the ${OVERLAP_MS} ms overlap`,
    );
    assert.deepEqual(failed, []);
  });

  it('an instance that never serves the verify-only key stops the rotation before the promotion; the retry resumes at the test stage', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'ks-keyring-rotation-'));
    const store = await openLocalStore({ dir });
    t.after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await store.put(ENTRY, serializeKeyset(createKeyset({ now: Date.now(), kid: 'k1' })));
    const runner = createRotationRunner({ store, logger: false });
    let ready = false;
    const rotator = hmacKeyringRotator({ overlapMs: OVERLAP_MS, instancesServe: async () => ready, propagationTimeoutMs: 200, pollIntervalMs: 20 });
    const failed = await runner.run(ENTRY, rotator);
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.stage, 'test');
    assert.match(failed.error?.message ?? '', /cannot be promoted: instancesServe\(\) did not serve version 2/);
    const published = JSON.parse(Buffer.from((await store.access(ENTRY)).value).toString('utf8')) as Keyset;
    assert.equal(published.keys.find((k) => k.state === 'primary')?.kid, 'k1', 'k1 still signs');
    ready = true;
    const resumed = await runner.run(ENTRY, rotator);
    assert.equal(resumed.outcome, 'waiting');
    assert.equal(resumed.version, 3);
    assert.equal(resumed.attempts, 2);
  });
});
