import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createKeyshift, defineSecrets, ErrorCodes, type KeyshiftError, PolicyError, t } from '../../src/index.ts';
import {
  addKey,
  createHmacKeyring,
  createKeyset,
  hmacKeysetSchema,
  type Keyset,
  promoteKey,
  retireKeys,
  serializeKeyset,
} from '../../src/rotation/keyring/hmac-keyring.ts';
import { createFakeClock, flush, memorySource } from '../../src/testing/index.ts';

const TTL_MS = 60_000;
const SKEW_MS = 5_000;
const OVERLAP_MS = 70_000;
const K1 = Buffer.alloc(32, 1);
const K2 = Buffer.alloc(32, 2);

const declaration = defineSecrets({
  SUCCESS_URL_SIGNING_KEY: { type: t.string(), category: 'signing-key', rotation: 'keyring' },
});

/** A manager over a memory source (watched unless `watch: false`: then only TTLs and refreshes see new versions). */
async function setup(keyset: Keyset | string, { validate = false, watch = true } = {}) {
  const clock = createFakeClock();
  const source = memorySource({ values: { SUCCESS_URL_SIGNING_KEY: typeof keyset === 'string' ? keyset : serializeKeyset(keyset) } });
  const decl = validate
    ? defineSecrets({ SUCCESS_URL_SIGNING_KEY: { type: t.string(), category: 'signing-key', rotation: 'keyring', validate: hmacKeysetSchema } })
    : declaration;
  const served = watch ? source : { kind: 'memory', get: source.get.bind(source) };
  const ks = createKeyshift(decl, { source: served, clock, logger: false, minRefreshIntervalMs: 1 });
  await ks.ready();
  const ring = createHmacKeyring({ keyshift: ks, entry: 'SUCCESS_URL_SIGNING_KEY', overlapMs: OVERLAP_MS, tokenTtlMs: TTL_MS, clockSkewMs: SKEW_MS, clock, logger: false });
  const put = async (next: Keyset | string): Promise<void> => {
    source.set('SUCCESS_URL_SIGNING_KEY', typeof next === 'string' ? next : serializeKeyset(next));
    await clock.tick(5);
    await flush();
  };
  return { clock, source, ks, ring, put };
}

const first = () => createKeyset({ now: 1_700_000_000_000, kid: 'k1', material: K1 });

describe('Plan 34: HMAC keyring', () => {
  it('signs with the primary key and verifies its own tokens, kid included', async () => {
    const { ring, ks } = await setup(first());
    const token = ring.sign('order=42&amount=9.99 €');
    assert.match(token, /^v1\.k1\.\d+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const result = await ring.verify(token);
    assert.deepEqual({ ...result, expiresAt: undefined }, { ok: true, payload: 'order=42&amount=9.99 €', kid: 'k1', expiresAt: undefined });
    await ks.close();
  });

  it('gives bad_signature for a tampered payload, kid-preserving MAC edits, and a MAC spelled differently', async () => {
    const { ring, ks } = await setup(first());
    const token = ring.sign('amount=10');
    const parts = token.split('.');
    const tamperedPayload = [...parts.slice(0, 3), Buffer.from('amount=99').toString('base64url'), parts[4]].join('.');
    const mac = parts[4] as string;
    const last = mac.at(-1) as string;
    // 43 base64url chars carry 258 bits: the last char's 2 low bits are unused, so a naive decode-and-compare accepts this.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const respelled = [...parts.slice(0, 4), mac.slice(0, -1) + sibling].join('.');
    const flipped = [...parts.slice(0, 4), (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1)].join('.');
    for (const bad of [tamperedPayload, respelled, flipped]) {
      assert.deepEqual(await ring.verify(bad), { ok: false, reason: 'bad_signature', kid: 'k1' });
    }
    await ks.close();
  });

  it('gives malformed for anything that is not a v1 token, without throwing', async () => {
    const { ring, ks } = await setup(first());
    const good = ring.sign('x');
    const cases: unknown[] = ['', 'abc', good.replace('v1.', 'v2.'), `${good}.extra`, good.slice(0, -1), good.replace('.k1.', '.k 1.'), `v1.k1.${'9'.repeat(13)}.eA.${'A'.repeat(43)}`, 'x'.repeat(1 << 20), 42, null, undefined];
    for (const token of cases) assert.deepEqual(await ring.verify(token as string), { ok: false, reason: 'malformed' });
    await ks.close();
  });

  it('gives expired past the expiry plus skew', async () => {
    const { ring, ks, clock } = await setup(first());
    const token = ring.sign('x', { ttlMs: 1_000 });
    await clock.tick(1_000 + SKEW_MS - 10);
    assert.equal((await ring.verify(token)).ok, true);
    await clock.tick(1_010);
    assert.deepEqual(await ring.verify(token), { ok: false, reason: 'expired', kid: 'k1' });
    assert.throws(() => ring.sign('x', { ttlMs: TTL_MS + 1 }), (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION);
    await ks.close();
  });

  it('gives unknown_kid, and 10,000 unknown-kid tokens make at most one store refresh per 30 s cooldown (F13)', async () => {
    const { ring, ks, source, clock } = await setup(first());
    const stranger = await setup(createKeyset({ now: 1, kid: 'stranger', material: K2 }));
    const token = stranger.ring.sign('x');
    await stranger.ks.close();
    const before = source.calls.get('SUCCESS_URL_SIGNING_KEY') ?? 0;
    const results = await Promise.all(Array.from({ length: 10_000 }, () => ring.verify(token)));
    assert.ok(results.every((r) => !r.ok && r.reason === 'unknown_kid'));
    assert.equal((source.calls.get('SUCCESS_URL_SIGNING_KEY') ?? 0) - before, 1);
    for (let i = 0; i < 100; i++) await ring.verify(token);
    assert.equal(ring.status().unknownKidRefreshes, 1);
    await clock.tick(30_000);
    await ring.verify(token);
    assert.equal(ring.status().unknownKidRefreshes, 2);
    await ks.close();
  });

  it('learns a key it has not seen by one refresh when the kid is unknown', async () => {
    const { ring, ks, source } = await setup(first(), { watch: false });
    const promoted = promoteKey(addKey(first(), { now: 1_700_000_000_000, kid: 'k2', material: K2 }), 'k2', { now: 1_700_000_000_000, overlapMs: OVERLAP_MS, minDelayMs: 0 });
    const peer = await setup(promoted);
    // The store moves on and this instance is not told (no watch): the unknown kid makes it look, once.
    source.set('SUCCESS_URL_SIGNING_KEY', serializeKeyset(promoted));
    assert.equal(ring.status().primary, 'k1');
    const result = await ring.verify(peer.ring.sign('hello'));
    assert.deepEqual({ ...result, expiresAt: 0 }, { ok: true, payload: 'hello', kid: 'k2', expiresAt: 0 });
    await Promise.all([ks.close(), peer.ks.close()]);
  });

  it('rotates in stages: add verify-only, promotion refused until ready, old tokens verify through the overlap, then key_retired', async () => {
    const { ring, ks, clock, put } = await setup(first());
    const k1Token = ring.sign('before');
    const added = addKey(first(), { now: clock.wallNow(), kid: 'k2', material: K2 });
    await put(added);
    assert.deepEqual(ring.kids(), [
      { kid: 'k1', state: 'primary' },
      { kid: 'k2', state: 'verify-only' },
    ]);
    assert.match(ring.sign('still k1'), /^v1\.k1\./);
    assert.throws(() => addKey(added, { now: clock.wallNow() }), (e: KeyshiftError) => e.code === ErrorCodes.ROTATION_REFUSED);
    assert.throws(
      () => promoteKey(added, 'k2', { now: clock.wallNow() + 1_000, overlapMs: OVERLAP_MS, minDelayMs: 5_000 }),
      (e: KeyshiftError) => e.code === ErrorCodes.ROTATION_REFUSED && /not every instance reported it/.test(e.message),
    );
    assert.ok(promoteKey(added, 'k2', { now: clock.wallNow() + 5_000, overlapMs: OVERLAP_MS, minDelayMs: 5_000 }));
    const promoted = promoteKey(added, 'k2', { now: clock.wallNow(), overlapMs: OVERLAP_MS, minDelayMs: 5_000, instancesReady: true });
    await put(promoted);
    const k2Token = ring.sign('after');
    assert.match(k2Token, /^v1\.k2\./);
    assert.equal((await ring.verify(k1Token)).ok, true, 'a K1 token verifies during the overlap');
    await clock.tick(OVERLAP_MS);
    assert.deepEqual(await ring.verify(k1Token), { ok: false, reason: 'key_retired', kid: 'k1' });
    const retired = retireKeys(promoted, { now: clock.wallNow() });
    assert.equal(retired.keys.find((k) => k.kid === 'k1')?.material, undefined, 'retiring drops the material');
    await put(retired);
    assert.deepEqual(await ring.verify(k1Token), { ok: false, reason: 'key_retired', kid: 'k1' });
    assert.deepEqual(await ring.verify(k2Token), { ok: false, reason: 'expired', kid: 'k2' }, 'its TTL is shorter than the overlap');
    const fresh = ring.sign('later');
    assert.match(fresh, /^v1\.k2\./);
    assert.equal((await ring.verify(fresh)).ok, true);
    await ks.close();
  });

  it('refuses keys under 32 bytes: at creation with a clear error, and later versions are rejected while the ring stays', async () => {
    const short = serializeKeyset(first()).replace(K1.toString('base64'), Buffer.alloc(31, 7).toString('base64'));
    const setupShort = setup(short);
    await assert.rejects(setupShort, (e: KeyshiftError) => e.code === ErrorCodes.VALUE_REJECTED && /31 bytes; HMAC-SHA256 keys need at least 32/.test(e.message));
    const { ring, ks, put } = await setup(first());
    const rejected: string[] = [];
    ring.on('rejected', (e) => rejected.push(e.reason));
    await put(short);
    const token = ring.sign('x');
    assert.match(token, /^v1\.k1\./);
    assert.equal((await ring.verify(token)).ok, true);
    assert.deepEqual(rejected, ['key k1: material is 31 bytes; HMAC-SHA256 keys need at least 32 (RFC 7518 §3.2)']);
    await ks.close();
  });

  it('lets the core reject a bad keyset version itself when declared with validate: hmacKeysetSchema', async () => {
    const { ring, ks, put } = await setup(first(), { validate: true });
    const reasons: string[] = [];
    ks.on('rejected', (e) => reasons.push(e.reason));
    await put('{"format":"keyshift.hmac-keyset.v1","keys":[]}');
    assert.equal(reasons.length, 1);
    // "keys must be..." names a key of the value, so the core's echo screen withholds it (docs/errors.md)
    assert.match(reasons[0] as string, /^failed validation at \$: the message is withheld: it repeats part of the value$/);
    assert.equal((await ring.verify(ring.sign('x'))).ok, true);
    await ks.close();
  });

  it('refuses private keys by policy, in the declaration and when handed to the keyring', async () => {
    assert.throws(
      () => defineSecrets({ HOST_WALLET_PRIVATE_KEY: { type: t.string(), category: 'private-key', rotation: 'keyring' } }),
      (e: unknown) => e instanceof PolicyError && e.rule === 'private-key-static',
    );
    assert.throws(
      () => defineSecrets({ WALLET_SEED: { type: t.string(), category: 'private-key', rotation: 'keyring' } }),
      (e: unknown) => e instanceof PolicyError && e.rule === 'private-key-static',
    );
    const decl = defineSecrets({
      HOST_WALLET_PRIVATE_KEY: { type: t.string(), category: 'private-key', static: true },
      TPS_HOSTPAY_SIGNING_KEY: { type: t.string(), category: 'signing-key', static: true },
    });
    const source = memorySource({ values: { HOST_WALLET_PRIVATE_KEY: serializeKeyset(first()), TPS_HOSTPAY_SIGNING_KEY: serializeKeyset(first()) } });
    const ks = createKeyshift(decl, { source, logger: false });
    await ks.ready();
    assert.throws(
      () => createHmacKeyring({ keyshift: ks, entry: 'HOST_WALLET_PRIVATE_KEY', overlapMs: OVERLAP_MS, tokenTtlMs: TTL_MS, clockSkewMs: SKEW_MS }),
      (e: unknown) => e instanceof PolicyError && e.rule === 'private-key-static',
    );
    assert.throws(
      () => createHmacKeyring({ keyshift: ks, entry: 'TPS_HOSTPAY_SIGNING_KEY', overlapMs: OVERLAP_MS, tokenTtlMs: TTL_MS, clockSkewMs: SKEW_MS }),
      (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION && /rotation: 'keyring'/.test(e.message),
    );
    await ks.close();
  });

  it('refuses an overlap shorter than the token lifetime plus skew', async () => {
    const { ks } = await setup(first());
    assert.throws(
      () => createHmacKeyring({ keyshift: ks, entry: 'SUCCESS_URL_SIGNING_KEY', overlapMs: TTL_MS, tokenTtlMs: TTL_MS, clockSkewMs: SKEW_MS }),
      (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION && /overlapMs/.test(e.message),
    );
    await ks.close();
  });

  it('never shows key material: inspect, status, kids and events', async () => {
    const { ring, ks, put } = await setup(first());
    const seen: unknown[] = [];
    ring.on('change', (e) => seen.push(e));
    await put(addKey(first(), { now: 1_700_000_000_000, kid: 'k2', material: K2 }));
    const text = [inspect(ring, { showHidden: true, depth: Number.POSITIVE_INFINITY }), JSON.stringify(ring.status()), JSON.stringify(ring.kids()), JSON.stringify(seen)].join('\n');
    for (const material of [K1, K2]) {
      assert.ok(!text.includes(material.toString('base64')));
      assert.ok(!text.includes(material.toString('hex')));
    }
    assert.equal(seen.length, 1);
    await ks.close();
  });
});
