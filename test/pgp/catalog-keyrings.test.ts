/**
 * The catalog's signing keys rotate for real (issue 14, item 4). JWT_SECRET_KEY and
 * SIGNUP_SECRET_KEY (dynamic) and SUCCESS_URL_SIGNING_KEY and TPS_HOSTPAY_SIGNING_KEY
 * (static, the security-critical services) are HMAC keysets behind the keyring: a store
 * still holding the plain strings is migrated with `keyshift keyring-migrate`, rotated
 * with `keyshift rotate --rotator keyring`, and a token signed by one process before
 * the rotation verifies in another process after it, which signs with the new key.
 * The policy still refuses what it must: a private key is never dynamic nor a keyring.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findViolation } from '../../src/core/policy.ts';
import { createKeyshift, defineSecrets } from '../../src/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { createHmacKeyring, type Keyset } from '../../src/rotation/keyring/hmac-keyring.ts';
import { MIGRATED_KID } from '../../src/rotation/keyring/keyset-from-plain.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { memorySource } from '../../src/testing/index.ts';
import {
  HOST_WALLET_PRIVATE_KEY,
  JWT_SECRET_KEY,
  SIGNUP_SECRET_KEY,
  SUCCESS_URL_SIGNING_KEY,
  TPS_HOSTPAY_SIGNING_KEY,
} from '../../examples/pgp/catalog/secrets.ts';
import { runProcess } from '../_process.ts';
import { runInProcess } from '../cli/_run.ts';

const NAMES = ['SUCCESS_URL_SIGNING_KEY', 'TPS_HOSTPAY_SIGNING_KEY', 'JWT_SECRET_KEY', 'SIGNUP_SECRET_KEY'] as const;
/** The plain strings the services used before the keyring (44+ bytes each, obviously fake). */
const PLAIN = Object.fromEntries(NAMES.map((n) => [n, `fake-plain-${n.toLowerCase()}-0123456789abcdef`])) as Record<(typeof NAMES)[number], string>;

interface ChildOut {
  pid: number;
  signed: Record<string, { token: string; primary: string }>;
  verified: Record<string, { ok: boolean; kid?: string; payload?: string; reason?: string }>;
}

describe('PGP catalog: signing keys on the keyring, across processes', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const store = () => join(dir, 'store');
  const cli = (argv: string[], stdin?: string) => runInProcess([...argv, '--store', store()], { env, cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ks-catalog-keyrings-'));
    env = { PATH: process.env.PATH, KEYSHIFT_MASTER_KEY: randomBytes(32).toString('base64') };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const child = async (mode: 'sign' | 'verify', tokens?: Record<string, string>): Promise<ChildOut> => {
    const script = fileURLToPath(new URL('./_catalog-keyring-child.ts', import.meta.url));
    const run = await runProcess(process.execPath, ['--import', 'tsx', script, store(), mode, ...(tokens ? [JSON.stringify(tokens)] : [])], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...env, NODE_OPTIONS: '' },
    }).done;
    assert.equal(run.code, 0, run.stderr);
    for (const plain of Object.values(PLAIN)) assert.ok(!run.stdout.includes(plain) && !run.stderr.includes(plain), 'a key was printed');
    return JSON.parse(run.stdout) as ChildOut;
  };

  const keysetIn = async (name: string): Promise<Keyset> => {
    const local = await openLocalStore({ dir: store(), masterKey: env.KEYSHIFT_MASTER_KEY! });
    try {
      return JSON.parse(Buffer.from((await local.access(name)).value).toString()) as Keyset;
    } finally {
      await local.close();
    }
  };

  it('refuses the plain strings at ready() and a keyring rotation of one, until keyring-migrate makes each a keyset', async () => {
    for (const name of NAMES) assert.equal((await cli(['put', name], `${PLAIN[name]}\n`)).code, 0);
    const declaration = defineSecrets({ SUCCESS_URL_SIGNING_KEY, TPS_HOSTPAY_SIGNING_KEY, JWT_SECRET_KEY, SIGNUP_SECRET_KEY });
    const plainKs = createKeyshift(declaration, { source: localStore({ dir: store(), env }), logger: false });
    const refused = await plainKs.ready().then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    await plainKs.close();
    assert.ok(refused, 'a plain string must not load as a keyset');
    assert.match(String(refused.message), /keyset|SIGNING_KEY|SECRET_KEY/);
    for (const plain of Object.values(PLAIN)) assert.ok(!String(refused.message).includes(plain));

    const early = await cli(['rotate', 'JWT_SECRET_KEY', '--rotator', 'keyring', '--overlap', '24h', '--min-delay', '0']);
    assert.equal(early.code, 1);
    assert.match(early.stderr, /KS_ERR_ROTATION_REFUSED: .*not a keyset: run keyshift keyring-migrate/);
    assert.equal((JSON.parse((await cli(['versions', 'JWT_SECRET_KEY', '--json'])).stdout) as unknown[]).length, 1, 'nothing written');

    for (const name of NAMES) {
      const migrated = await cli(['keyring-migrate', name, '--json']);
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.deepEqual(JSON.parse(migrated.stdout), { name, migrated: true, version: 2, from: 1, primary: MIGRATED_KID });
      const keyset = await keysetIn(name);
      assert.equal(Buffer.from(keyset.keys[0]!.material!, 'base64').toString(), PLAIN[name], `${name}: the plain value is key k0`);
    }
  });

  it('a token signed by process 1 before the rotation verifies in process 2 after it, which signs with the new key', async () => {
    const before1 = await child('sign');
    for (const name of NAMES) assert.equal(before1.signed[name]?.primary, MIGRATED_KID, `${name}: process 1 signs with the migrated key`);

    // The rotation, by the operator: a key added and published verify-only, then promoted; the former primary
    // verifies through the overlap (24 h here). The security-critical holders of the two static keys would be
    // restarted between the two steps; --min-delay 0 stands for "every holder was restarted".
    for (const name of NAMES) {
      const rotated = await cli(['rotate', name, '--rotator', 'keyring', '--overlap', '24h', '--min-delay', '0', '--json']);
      assert.equal(rotated.code, 0, rotated.stderr);
      const result = JSON.parse(rotated.stdout) as { outcome: string; version: number; previousVersion: number };
      assert.equal(result.outcome, 'waiting', `${name}: promoted, the retirement of the old key waits for the overlap`);
      assert.deepEqual([result.previousVersion, result.version], [3, 4], `${name}: version 3 published the new key verify-only, version 4 promoted it`);
    }

    const after2 = await child('verify', Object.fromEntries(NAMES.map((n) => [n, before1.signed[n]!.token])));
    assert.notEqual(after2.pid, before1.pid);
    for (const name of NAMES) {
      const verified = after2.verified[name];
      assert.equal(verified?.ok, true, `${name}: ${JSON.stringify(verified)}`);
      assert.equal(verified?.kid, MIGRATED_KID);
      assert.equal(verified?.payload, `${name}: fake payload ${before1.pid}`);
      const keyset = await keysetIn(name);
      const primary = keyset.keys.find((k) => k.state === 'primary')?.kid;
      assert.ok(primary && primary !== MIGRATED_KID, `${name}: a new primary`);
      assert.equal(after2.signed[name]?.primary, primary, `${name}: process 2 signs with the new key`);
      assert.equal(after2.signed[name]?.token.split('.')[1], primary);
      assert.deepEqual(
        keyset.keys.map((k) => [k.kid, k.state]),
        [[MIGRATED_KID, 'verify-only'], [primary, 'primary']],
      );
    }

    // A token of process 2 verifies in a third place (this process), one with a forged MAC does not.
    const declaration = defineSecrets({ SUCCESS_URL_SIGNING_KEY, TPS_HOSTPAY_SIGNING_KEY, JWT_SECRET_KEY, SIGNUP_SECRET_KEY });
    const ks = createKeyshift(declaration, { source: localStore({ dir: store(), env }), logger: false });
    await ks.ready();
    try {
      for (const name of NAMES) {
        const ring = createHmacKeyring({ keyshift: ks, entry: name, overlapMs: 24 * 3_600_000, logger: false });
        assert.equal((await ring.verify(after2.signed[name]!.token)).ok, true, name);
        const forged = `${after2.signed[name]!.token.slice(0, -4)}AAAA`;
        assert.deepEqual(await ring.verify(forged), { ok: false, reason: 'bad_signature', kid: after2.signed[name]!.primary });
      }
    } finally {
      await ks.close();
    }
  });

  it('the policy still refuses a dynamic private key, a private key on the keyring, and a signing key outside it', async () => {
    assert.equal(findViolation('HOST_WALLET_PRIVATE_KEY', { ...HOST_WALLET_PRIVATE_KEY, static: false })?.rule.id, 'private-key-static');
    assert.equal(findViolation('HOST_WALLET_PRIVATE_KEY', { ...HOST_WALLET_PRIVATE_KEY, rotation: 'keyring' })?.rule.id, 'private-key-static');
    assert.throws(() => defineSecrets({ HOST_WALLET_PRIVATE_KEY: { ...HOST_WALLET_PRIVATE_KEY, static: false } }), { code: 'KS_ERR_POLICY' });
    assert.throws(() => defineSecrets({ HOST_WALLET_PRIVATE_KEY: { ...HOST_WALLET_PRIVATE_KEY, rotation: 'keyring' } }), { code: 'KS_ERR_POLICY' });
    // The catalog's signing keys pass only because they go through the keyring.
    for (const entry of [SUCCESS_URL_SIGNING_KEY, TPS_HOSTPAY_SIGNING_KEY, JWT_SECRET_KEY, SIGNUP_SECRET_KEY]) {
      const { rotation: _rotation, ...withoutKeyring } = entry;
      assert.equal(findViolation('SUCCESS_URL_SIGNING_KEY', { ...withoutKeyring, static: false })?.rule.id, 'signing-key-static');
      assert.equal(findViolation('SUCCESS_URL_SIGNING_KEY', { ...entry, rotation: 'pg-pool' })?.rule.id, 'signing-key-static');
      assert.equal(findViolation('SUCCESS_URL_SIGNING_KEY', entry), undefined);
    }
    // The keyring itself refuses a wallet key, whatever its declaration says.
    const ks = createKeyshift(defineSecrets({ HOST_WALLET_PRIVATE_KEY }), {
      source: memorySource({ values: { HOST_WALLET_PRIVATE_KEY: `0x${'1'.repeat(64)}` } }),
      logger: false,
    });
    await ks.ready();
    try {
      assert.throws(() => createHmacKeyring({ keyshift: ks, entry: 'HOST_WALLET_PRIVATE_KEY', overlapMs: 24 * 3_600_000, logger: false }), { code: 'KS_ERR_POLICY' });
    } finally {
      await ks.close();
    }
    // And no CLI rotation touches it: nothing written.
    assert.equal((await cli(['put', 'HOST_WALLET_PRIVATE_KEY'], `0x${'2'.repeat(64)}`)).code, 0);
    const rotate = await cli(['rotate', 'HOST_WALLET_PRIVATE_KEY', '--rotator', 'keyring', '--overlap', '24h', '--min-delay', '0']);
    assert.equal(rotate.code, 1);
    assert.match(rotate.stderr, /KS_ERR_POLICY|private-key-static|never/);
    assert.equal((JSON.parse((await cli(['versions', 'HOST_WALLET_PRIVATE_KEY', '--json'])).stdout) as unknown[]).length, 1, 'nothing written');
  });
});
