/**
 * Overlap windows for a secret shared with a third party (NOWPAYMENTS_IPN_SECRET): after
 * a rotation, callbacks signed with the previous value keep verifying for the declared
 * window and stop after it; reads are from memory; at most MAX_OVERLAP_VALUES are kept.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createKeyshift, defineSecrets, MAX_OVERLAP_VALUES, reveal, t, verifyHmacSignature } from '../../src/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { createFakeClock, memorySource } from '../../src/testing/index.ts';

const sign = (secret: string, payload: string, algorithm = 'sha512'): string => createHmac(algorithm, secret).update(payload).digest('hex');
const WINDOW_MS = 10 * 60_000;

describe('overlap windows and verifyHmacSignature', () => {
  it('a callback signed with the old value verifies for the window after a rotation, and not after it', async () => {
    const clock = createFakeClock();
    const source = memorySource({ values: { NOWPAYMENTS_IPN_SECRET: 'fake-ipn-one' } });
    const ks = createKeyshift(
      defineSecrets({ NOWPAYMENTS_IPN_SECRET: { type: t.string(), category: 'webhook-secret', overlapMs: WINDOW_MS } } as const),
      { source, clock, logger: false },
    );
    await ks.ready();
    const payload = '{"order_id":"fake-1","payment_status":"finished"}';
    const verify = (signature: string) => verifyHmacSignature(ks.overlapping('NOWPAYMENTS_IPN_SECRET'), payload, signature, { algorithm: 'sha512' });
    assert.deepEqual(verify(sign('fake-ipn-one', payload)), { valid: true, version: '1', previous: false });

    source.set('NOWPAYMENTS_IPN_SECRET', 'fake-ipn-two');
    await ks.refresh('NOWPAYMENTS_IPN_SECRET');
    const calls = source.calls.get('NOWPAYMENTS_IPN_SECRET');
    assert.equal(reveal(ks.get('NOWPAYMENTS_IPN_SECRET')), 'fake-ipn-two');
    assert.deepEqual(verify(sign('fake-ipn-one', payload)), { valid: true, version: '1', previous: true }, 'old signature inside the window');
    assert.deepEqual(verify(sign('fake-ipn-two', payload)), { valid: true, version: '2', previous: false });
    assert.equal(verify(sign('fake-ipn-other', payload)).valid, false);
    assert.equal(source.calls.get('NOWPAYMENTS_IPN_SECRET'), calls, 'no store call on the read');

    await clock.tick(WINDOW_MS - 1);
    assert.equal(verify(sign('fake-ipn-one', payload)).valid, true, 'still inside the window');
    await clock.tick(1);
    assert.equal(verify(sign('fake-ipn-one', payload)).valid, false, 'the window is over');
    assert.equal(verify(sign('fake-ipn-two', payload)).valid, true);
    assert.deepEqual(ks.overlapping('NOWPAYMENTS_IPN_SECRET').map((v) => v.version), ['2']);
    await ks.close();
  });

  it(`keeps at most ${MAX_OVERLAP_VALUES} previous values, and refuses overlapMs on a static entry or a read without one`, async () => {
    const clock = createFakeClock();
    const source = memorySource({ values: { HOOK: 'fake-hook-0', PLAIN: 'fake-plain' } });
    const ks = createKeyshift(defineSecrets({ HOOK: { type: t.string(), overlapMs: WINDOW_MS }, PLAIN: { type: t.string() } } as const), { source, clock, logger: false });
    await ks.ready();
    for (let i = 1; i <= 7; i++) {
      source.set('HOOK', `fake-hook-${i}`);
      await clock.tick(1_000); // past the minimum interval between forced refreshes
      await ks.refresh('HOOK');
    }
    const kept = ks.overlapping('HOOK');
    assert.equal(kept.length, 1 + MAX_OVERLAP_VALUES);
    assert.deepEqual(kept.map((v) => v.value), ['fake-hook-7', 'fake-hook-6', 'fake-hook-5', 'fake-hook-4', 'fake-hook-3']);
    assert.throws(() => ks.overlapping('PLAIN'), /declares no overlapMs/);
    assert.throws(() => defineSecrets({ S: { type: t.string(), static: true, overlapMs: 1000 } }), /overlapMs does not apply/);
    assert.throws(() => defineSecrets({ S: { type: t.string(), overlapMs: -1 } }), /overlapMs must be a positive/);
    await ks.close();
  });

  it('verifyHmacSignature: wrong lengths, bad encodings and plain keys never throw and never match falsely', () => {
    const payload = 'fake-payload';
    const good = sign('fake-k2', payload, 'sha256');
    assert.deepEqual(verifyHmacSignature(['fake-k1', 'fake-k2'], payload, good), { valid: true });
    for (const bad of ['', 'zz', good.slice(0, -2), `${good}00`, good.toUpperCase().replace(/./, 'g')]) {
      assert.equal(verifyHmacSignature(['fake-k1', 'fake-k2'], payload, bad).valid, false, bad.length.toString());
    }
    assert.equal(verifyHmacSignature(['fake-k2'], payload, good.toUpperCase()).valid, true, 'hex is case-insensitive');
    const b64 = createHmac('sha256', 'fake-k1').update(payload).digest('base64');
    assert.equal(verifyHmacSignature([Buffer.from('fake-k1')], payload, b64, { encoding: 'base64' }).valid, true);
    assert.throws(() => verifyHmacSignature([], payload, good), /at least one key/);
    // a typo'd or unknown option is refused, not a silent sha256 (which would refuse every sha512 callback) or a crypto error
    const loose = (options: unknown) => options as Parameters<typeof verifyHmacSignature>[3];
    assert.throws(() => verifyHmacSignature(['fake-k2'], payload, good, loose({ algoritm: 'sha512' })), {
      code: 'KS_ERR_INVALID_DECLARATION',
      message: 'verifyHmacSignature: unknown option "algoritm" (the options are algorithm, encoding)',
    });
    assert.throws(() => verifyHmacSignature(['fake-k2'], payload, good, loose({ algorithm: 'md5' })), { code: 'KS_ERR_INVALID_DECLARATION', message: /algorithm must be one of sha1, sha256, sha384, sha512/ });
    assert.throws(() => verifyHmacSignature(['fake-k2'], payload, good, loose({ encoding: 'base32' })), { code: 'KS_ERR_INVALID_DECLARATION', message: /encoding must be one of hex, base64, base64url/ });
  });

  it('across two processes: a writer rotates the shared store, the verifier accepts old signatures for the window only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-overlap-'));
    const key = randomBytes(32).toString('base64');
    const store = await openLocalStore({ dir, masterKey: key });
    await store.put('NOWPAYMENTS_IPN_SECRET', 'fake-ipn-a');
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./_overlap-child.ts', import.meta.url)), dir, String(WINDOW_MS)], {
      env: { ...process.env, NODE_OPTIONS: '', NODE_TEST_CONTEXT: undefined, KEYSHIFT_MASTER_KEY: key },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<Record<string, unknown>> => JSON.parse(String((await lines.next()).value)) as Record<string, unknown>;
    const send = (message: unknown): void => void child.stdin.write(`${JSON.stringify(message)}\n`);
    const verify = async (secret: string): Promise<boolean> => {
      const payload = `{"order_id":"fake-${randomBytes(4).toString('hex')}"}`;
      send({ type: 'verify', payload, signature: sign(secret, payload) });
      return (await next()).valid === true;
    };
    try {
      assert.deepEqual(await next(), { type: 'ready', version: '1' });
      assert.equal(await verify('fake-ipn-a'), true);
      await store.put('NOWPAYMENTS_IPN_SECRET', 'fake-ipn-b'); // the rotation, by another process
      assert.deepEqual(await next(), { type: 'changed', version: '2' }, 'the verifier saw the new version through the store watch');
      assert.equal(await verify('fake-ipn-a'), true, 'the provider still signs with the old value: accepted inside the window');
      assert.equal(await verify('fake-ipn-b'), true);
      send({ type: 'tick', ms: WINDOW_MS });
      assert.equal((await next()).type, 'ticked');
      assert.equal(await verify('fake-ipn-a'), false, 'after the window the old value is refused');
      assert.equal(await verify('fake-ipn-b'), true);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      send({ type: 'close' });
      child.stdin.end();
      assert.equal(await exited, 0);
    } finally {
      child.kill();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
