/**
 * From a plain signing secret to the HMAC keyring: `keyshift keyring-migrate` makes the
 * current value the primary key of a keyset, and a token issued before a keyring rotation
 * keeps verifying after it, each step in its own process.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openLocalStore } from '../../src/local-store/index.ts';
import { addKey, type Keyset, promoteKey, serializeKeyset } from '../../src/rotation/keyring/hmac-keyring.ts';
import { keysetFromPlainSecret, MIGRATED_KID } from '../../src/rotation/keyring/keyset-from-plain.ts';
import { runProcess } from '../_process.ts';
import { runInProcess } from '../cli/_run.ts';

const PLAIN = 'fake-legacy-jwt-secret-key-0123456789-abcdef'; // 44 bytes, as the service used it

describe('keyring migration: plain secret -> keyset', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const store = () => join(dir, 'store');
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ks-keyring-migrate-'));
    env = { PATH: process.env.PATH, KEYSHIFT_MASTER_KEY: randomBytes(32).toString('base64') };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const child = async (mode: 'sign' | 'verify', token?: string): Promise<Record<string, unknown>> => {
    const script = fileURLToPath(new URL('./_keyring-token-child.ts', import.meta.url));
    const run = await runProcess(process.execPath, ['--import', 'tsx', script, store(), mode, ...(token ? [token] : [])], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)), // where tsx resolves
      env: { ...env, NODE_OPTIONS: '' },
    }).done;
    assert.equal(run.code, 0, run.stderr);
    return JSON.parse(run.stdout) as Record<string, unknown>;
  };

  it('keyring-migrate: the current value becomes the primary key; a second run is a no-op; a short value is refused', async () => {
    assert.equal((await runInProcess(['put', 'JWT_SECRET_KEY', '--store', store()], { env, cwd: dir, stdin: `${PLAIN}\n` })).code, 0);
    const migrated = await runInProcess(['keyring-migrate', 'JWT_SECRET_KEY', '--store', store(), '--json'], { env, cwd: dir });
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.deepEqual(JSON.parse(migrated.stdout), { name: 'JWT_SECRET_KEY', migrated: true, version: 2, from: 1, primary: MIGRATED_KID });
    assert.ok(!migrated.stdout.includes(PLAIN) && !migrated.stderr.includes(PLAIN));
    const local = await openLocalStore({ dir: store(), masterKey: env.KEYSHIFT_MASTER_KEY! });
    try {
      const keyset = JSON.parse(Buffer.from((await local.access('JWT_SECRET_KEY')).value).toString()) as Keyset;
      assert.deepEqual(keyset.keys.map((k) => [k.kid, k.state]), [[MIGRATED_KID, 'primary']]);
      assert.equal(Buffer.from(keyset.keys[0]!.material!, 'base64').toString(), PLAIN, 'the material is the plain value, its newline removed');
    } finally {
      await local.close();
    }
    const again = await runInProcess(['keyring-migrate', 'JWT_SECRET_KEY', '--store', store()], { env, cwd: dir });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /version 2 is already a keyset; nothing to do/);

    await runInProcess(['put', 'SHORT_KEY', '--store', store()], { env, cwd: dir, stdin: 'fake-short' });
    const short = await runInProcess(['keyring-migrate', 'SHORT_KEY', '--store', store()], { env, cwd: dir });
    assert.equal(short.code, 1);
    assert.match(short.stderr, /KS_ERR_ROTATION_REFUSED: the plain value is 10 bytes/);
    const versions = await runInProcess(['versions', 'SHORT_KEY', '--store', store(), '--json'], { env, cwd: dir });
    assert.equal((JSON.parse(versions.stdout) as unknown[]).length, 1, 'nothing written');
    await runInProcess(['put', 'KID_KEY', '--store', store()], { env, cwd: dir, stdin: PLAIN });
    const badKid = await runInProcess(['keyring-migrate', 'KID_KEY', '--kid', 'fake kid!', '--store', store()], { env, cwd: dir });
    assert.equal(badKid.code, 2, 'a malformed option is a usage error');
    assert.match(badKid.stderr, /^keyshift: usage: --kid takes 1-64 letters, digits, _ or -\n/);
    assert.ok(!badKid.stderr.includes('fake kid!'));
    assert.throws(() => keysetFromPlainSecret(Buffer.from(serializeKeyset(keysetFromPlainSecret(Buffer.from(PLAIN), { now: 0 }))), { now: 0 }), /already a keyset/);
  });

  it('a token issued (process 1) before a keyring rotation verifies after it (process 2), and the new key signs (process 3)', async () => {
    const issued = await child('sign');
    assert.equal(issued.primary, MIGRATED_KID, 'process 1 signs with the former plain value');
    // The rotation, by an operator process: a new key added, then promoted; the old primary verifies through the overlap.
    const local = await openLocalStore({ dir: store(), masterKey: env.KEYSHIFT_MASTER_KEY! });
    try {
      const current = JSON.parse(Buffer.from((await local.access('JWT_SECRET_KEY')).value).toString()) as Keyset;
      const now = Date.now();
      const added = addKey(current, { now, kid: 'k1' });
      const promoted = promoteKey(added, 'k1', { now, overlapMs: 24 * 3_600_000, minDelayMs: 0, instancesReady: true });
      await local.put('JWT_SECRET_KEY', serializeKeyset(promoted));
    } finally {
      await local.close();
    }
    const verified = await child('verify', String(issued.token));
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.equal(verified.kid, MIGRATED_KID);
    assert.equal(verified.payload, 'user=fake-42');
    const fresh = await child('sign');
    assert.equal(fresh.primary, 'k1');
    assert.equal((await child('verify', String(fresh.token))).ok, true);
    const forged = `${String(issued.token).slice(0, -4)}AAAA`;
    assert.equal((await child('verify', forged)).ok, false);
  });
});
