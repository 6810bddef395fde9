// Reliability test 34: a staged HMAC key rotation across two real processes sharing
// one local store. A adds K2 verify-only, B learns it late, A's promotion waits for
// B, and every token either minted during the rotation verifies on the other.
// Nothing here depends on how fast a loaded machine runs: the children's wall clock is
// the test's (a token in transit never expires, the overlap ends when the test moves the
// clock), B's reads are held while A's early promotion is refused, and the test waits
// for counts (tokens minted, verified) instead of sleeping.
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { openLocalStore } from '../../src/local-store/index.ts';
import { createKeyset, serializeKeyset } from '../../src/rotation/keyring/hmac-keyring.ts';
import { ENTRY, type FromChild, OVERLAP_MS, type ToChild } from './_keyring-protocol.ts';
import { waitUntil } from './_pg-load.ts';

interface Instance {
  name: 'A' | 'B';
  child: ChildProcess;
  messages: FromChild[];
  kids: Array<{ kid: string; state: string }>;
  minted: number;
  verified: number;
  failed: Array<{ reason: string; kid?: string }>;
  send(message: ToChild): void;
  next<T extends FromChild['type']>(type: T): Promise<Extract<FromChild, { type: T }>>;
}

function start(name: 'A' | 'B', dir: string, wallNow: number): Instance {
  const child = fork(fileURLToPath(new URL('./_keyring-child.ts', import.meta.url)), [name, dir, String(wallNow)], {
    execArgv: ['--import', 'tsx', '--unhandled-rejections=strict'],
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiters: Array<{ type: string; resolve: (m: FromChild) => void }> = [];
  const instance: Instance = {
    name,
    child,
    messages: [],
    kids: [],
    minted: 0,
    verified: 0,
    failed: [],
    send: (message) => void child.send(message),
    next: (type) => new Promise((resolve) => waiters.push({ type, resolve: resolve as (m: FromChild) => void })),
  };
  child.on('message', (message: FromChild) => {
    if (message.type === 'kids') instance.kids = message.kids;
    if (message.type === 'verified') {
      instance.verified += message.ok;
      instance.failed.push(...message.failed);
    }
    const i = waiters.findIndex((w) => w.type === message.type);
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(message);
  });
  return instance;
}

/** Forwards each instance's minted tokens to the other for verification. */
function relay(a: Instance, b: Instance, saved: { k1FromA?: string; primaries: Map<string, Set<string>> }): void {
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.child.on('message', (message: FromChild) => {
      if (message.type !== 'tokens') return;
      from.minted += message.tokens.length;
      for (const token of message.tokens) {
        const kid = token.split('.')[1] as string;
        const kids = saved.primaries.get(from.name) ?? new Set();
        kids.add(kid);
        saved.primaries.set(from.name, kids);
        if (from.name === 'A' && kid === 'k1') saved.k1FromA = token;
      }
      to.send({ type: 'verify', tokens: message.tokens });
    });
  }
}

const holds = (instance: Instance, kid: string): boolean => instance.kids.some((k) => k.kid === kid);
const signs = (saved: { primaries: Map<string, Set<string>> }, name: 'A' | 'B', kid: string): boolean => saved.primaries.get(name)?.has(kid) ?? false;
const WAIT_MS = 60_000;

/** Resolves once every token either instance sent before now has been verified by the other. */
async function allVerified(a: Instance, b: Instance): Promise<void> {
  const synced = Promise.all([a.next('synced'), b.next('synced')]);
  for (const p of [a, b]) p.send({ type: 'sync' });
  await synced; // every token message sent before the sync has reached the test and been relayed
  await waitUntil('every token verified', () => a.verified + a.failed.length === b.minted && b.verified + b.failed.length === a.minted, WAIT_MS);
}

describe('HMAC keyring across processes', () => {
  it('Plan 34: rotates K1 to K2 in stages with 100 % of tokens verifying on the other process, then K1 tokens are key_retired', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'keyshift-keyring-'));
    const store = await openLocalStore({ dir });
    await store.put(ENTRY, serializeKeyset(createKeyset({ now: Date.now(), kid: 'k1' })));
    await store.close();
    const wallStart = Date.now();
    const a = start('A', dir, wallStart);
    const b = start('B', dir, wallStart);
    t.after(() => {
      for (const p of [a, b]) if (p.child.connected) p.send({ type: 'stop' });
      rmSync(dir, { recursive: true, force: true });
    });
    await Promise.all([a.next('ready'), b.next('ready')]);
    const saved: { k1FromA?: string; primaries: Map<string, Set<string>> } = { primaries: new Map() };
    relay(a, b, saved);
    a.send({ type: 'mint', on: true });
    b.send({ type: 'mint', on: true });
    await waitUntil('both sign with K1', () => signs(saved, 'A', 'k1') && signs(saved, 'B', 'k1'), WAIT_MS);

    // Stage 1: A adds K2 verify-only. A's promotion is refused at once: B has not reported K2
    // (B's reads are held until then, so a descheduled test cannot see B learn it first).
    b.send({ type: 'hold', on: true });
    await b.next('held');
    const addedAt = performance.now();
    a.send({ type: 'add', kid: 'k2' });
    await a.next('done');
    assert.equal(holds(b, 'k2'), false);
    a.send({ type: 'promote', kid: 'k2', instancesReady: holds(b, 'k2'), minDelayMs: 60_000 });
    const early = await a.next('done');
    assert.match(early.refused ?? '', /not every instance reported it/);
    b.send({ type: 'hold', on: false });
    await b.next('held');

    // Stage 2: once B reports K2 (its status would show it), A promotes.
    await waitUntil('B holds K2', () => holds(b, 'k2'), WAIT_MS);
    const learnMs = performance.now() - addedAt;
    a.send({ type: 'promote', kid: 'k2', instancesReady: true, minDelayMs: 60_000 });
    const promoted = await a.next('done');
    assert.equal(promoted.refused, undefined);
    await waitUntil('both sign with K2', () => [a, b].every((p) => p.kids.some((k) => k.kid === 'k2' && k.state === 'primary')), WAIT_MS);
    await waitUntil(
      'both minted K2 tokens and 1,000 tokens each',
      () => signs(saved, 'A', 'k2') && signs(saved, 'B', 'k2') && a.minted >= 1_000 && b.minted >= 1_000,
      WAIT_MS,
    );
    a.send({ type: 'mint', on: false });
    b.send({ type: 'mint', on: false });
    await allVerified(a, b);

    // Stage 3: after the overlap, a K1 token is key_retired (before and after retireKeys rewrites the keyset).
    // The test's clock moves past the promotion's overlap (A stamped the promotion at wallStart).
    const k1Token = saved.k1FromA as string;
    assert.ok(k1Token);
    const clockSet = Promise.all([a.next('clock-set'), b.next('clock-set')]);
    for (const p of [a, b]) p.send({ type: 'clock', wallNow: wallStart + OVERLAP_MS + 50 });
    await clockSet;
    b.send({ type: 'verify-one', token: k1Token });
    assert.deepEqual(await b.next('result'), { type: 'result', ok: false, reason: 'key_retired' });
    a.send({ type: 'retire' });
    await a.next('done');
    await waitUntil('B sees K1 retired', () => b.kids.some((k) => k.kid === 'k1' && k.state === 'retired'), WAIT_MS);
    b.send({ type: 'verify-one', token: k1Token });
    assert.deepEqual(await b.next('result'), { type: 'result', ok: false, reason: 'key_retired' });

    // Distinct reasons: tampered, unknown kid (and a flood of them), malformed.
    a.send({ type: 'mint', on: true });
    const fresh = await a.next('tokens');
    a.send({ type: 'mint', on: false });
    const token = fresh.tokens[0] as string;
    const parts = token.split('.');
    const tampered = [...parts.slice(0, 3), Buffer.from('order=forged').toString('base64url'), parts[4]].join('.');
    const unknown = token.replace('.k2.', '.k9.');
    b.send({ type: 'flood', token: unknown, count: 10_000 });
    const flood = await b.next('flooded');
    assert.deepEqual(flood.reasons, ['unknown_kid']);
    assert.ok(flood.refreshes <= 1, `${flood.refreshes} refreshes for 10,000 unknown-kid tokens`);
    for (const [probe, reason] of [
      [tampered, 'bad_signature'],
      [unknown, 'unknown_kid'],
      ['v1.k2.not-a-token', 'malformed'],
      [token, 'ok'],
    ] as const) {
      b.send({ type: 'verify-one', token: probe });
      assert.equal((await b.next('result')).reason, reason);
    }

    t.diagnostic(
      `keyring: A minted ${a.minted} tokens (verified on B: ${b.verified}, failed ${b.failed.length}), B minted ${b.minted} (verified on A: ${a.verified}, failed ${a.failed.length}); ` +
        `B learned K2 ${Math.round(learnMs)} ms after it was added; A's kids ${[...(saved.primaries.get('A') ?? [])].join('/')}, B's ${[...(saved.primaries.get('B') ?? [])].join('/')}; ` +
        `10,000 unknown-kid tokens made ${flood.refreshes} refresh`,
    );
    assert.deepEqual([...a.failed, ...b.failed], []);
    assert.ok(a.minted >= 1_000 && b.minted >= 1_000, `minted ${a.minted} and ${b.minted}`);
    assert.deepEqual([...(saved.primaries.get('A') ?? [])], ['k1', 'k2']);
    assert.deepEqual([...(saved.primaries.get('B') ?? [])], ['k1', 'k2']);
    assert.ok(learnMs >= 300, 'B reads through a 300 ms store');
    for (const p of [a, b]) p.send({ type: 'stop' });
    await Promise.all([a, b].map((p) => new Promise((resolve) => p.child.once('exit', resolve))));
  });
});
