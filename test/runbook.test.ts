// docs/runbook.md is run, not just read: every ```sh block, in order, in one bash
// (set -euo pipefail), with `keyshift` on the PATH, in a scratch directory with a scratch
// local store, keyshift's emulator for Secret Manager, and a scratch PostgreSQL (initdb)
// for the database password section. A command that fails fails the test, naming its
// block. `keyshift` is the CLI's main() run in this process through a relay
// (test/_cli-relay.ts), except `keyshift serve`, a real bin/keyshift.mjs process: a
// process per command cost ~7 s each on a loaded machine (Node, tsx, the Google client).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { startEmulator } from '../src/emulator/index.ts';
import { openLocalStore } from '../src/local-store/index.ts';
import { createKeyset, serializeKeyset } from '../src/rotation/keyring/hmac-keyring.ts';
import { startCliRelay } from './_cli-relay.ts';
import { findPgBin, startPgCluster } from './_pg-cluster.ts';
import { startRunbookInstance } from './_runbook-instance.ts';
import { type ProcessRun, runProcess } from './_process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RUNBOOK = join(ROOT, 'docs', 'runbook.md');

/** The ```sh blocks of the runbook, in order. */
function shBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '');
}

function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  return runProcess('bash', ['-c', script], { cwd, env }).done;
}

// The blocks run a hundred-odd commands, a PostgreSQL and a `keyshift serve` process:
// a generous bound, not a speed assertion.
describe('docs/runbook.md', { timeout: 600_000 }, () => {
  it('has the sections an operator needs, and its commands are real', () => {
    const text = readFileSync(RUNBOOK, 'utf8');
    for (const heading of ['# Part A. Production: Secret Manager', '# Part B. Rehearsal on a local store', '## 2. Rotating each class without downtime', '## 3. Forcing a refresh', '## 4. Rolling back a bad version', '## 5. Alerts', '## 6. Why the wallet key']) {
      assert.ok(text.includes(heading), heading);
    }
    for (const rule of ['failing', 'stale-exceeded', 'rejected', 'slow-fetch', 'rotation-failed', 'pool-credentials']) {
      assert.match(text, new RegExp(`\\| \`${rule}\` \\|`), `the alert ${rule} is explained`);
    }
    const blocks = shBlocks(text);
    assert.ok(blocks.length >= 15, `${blocks.length} sh blocks`);
    // Part A: each secret class has its Secret Manager procedure, every command on --store "$PROD".
    const partA = text.slice(text.indexOf('# Part A.'), text.indexOf('# Part B.'));
    for (const section of ['## A1. API keys', '## A2. Service URLs, queue names, fees and flags', '## A3. Secrets we generate', '## A4. Webhook secrets', '## A5. Signing and session keys', '## A6. The database password', '## A8. The wallet key']) {
      const start = partA.indexOf(section);
      assert.ok(start >= 0, section);
      const body = partA.slice(start, partA.indexOf('\n## ', start + 1) === -1 ? undefined : partA.indexOf('\n## ', start + 1));
      const commands = shBlocks(body).flatMap((b) => b.split('\n')).filter((l) => /(^|\| |\$\()keyshift /.test(l));
      assert.ok(commands.length > 0, `${section} has a command`);
      for (const line of commands) assert.match(line, /--store "\$PROD"/, `${section}: ${line}`);
    }
    for (const needed of ['keyring-migrate', '--rotator keyring', '--rotator random', '--rollback', '--status', '--rotator pg', 'overlapping(']) {
      assert.ok(partA.includes(needed), `part A shows ${needed}`);
    }
    for (const block of blocks) assert.doesNotMatch(block, /<[A-Z_]+>|\bNAME\b|\.\.\./, 'a placeholder in a command');
  });

  it('runs every sh block in order against a scratch store (and a scratch PostgreSQL)', { timeout: 540_000 }, async (t) => {
    const blocks = shBlocks(readFileSync(RUNBOOK, 'utf8'));
    const cwd = mkdtempSync(join(tmpdir(), 'keyshift-runbook-'));
    const bin = join(cwd, '.bin');
    mkdirSync(bin);
    const relay = await startCliRelay(bin);
    const cluster = findPgBin() ? await startPgCluster() : undefined;
    // Secret Manager, for the production section: keyshift's emulator holding project pgp-prod.
    const emulatedStore = await openLocalStore({ dir: join(cwd, '.emulated'), masterKey: randomBytes(32) });
    const emulator = await startEmulator({ store: emulatedStore, project: 'pgp-prod' });
    const oldPassword = 'rehearsal-db-password-0';
    // What pgp-prod holds before the night: one version of each secret the procedures touch. JWT_SECRET_KEY was
    // migrated to a keyset long ago; SIGNUP_SECRET_KEY and SUCCESS_URL_SIGNING_KEY still hold plain strings.
    const jwtKeyset = serializeKeyset(createKeyset({ now: Date.now(), kid: 'k0' }));
    const prod: Record<string, string> = {
      CHANGENOW_API_KEY: 'cn_prod_rehearsal_key_1',
      PGP_SPLIT2_URL: 'https://pgp-split2-v1-prod.a.run.app',
      PGP_SPLIT2_ESTIMATE_QUEUE: 'pgp-split2-estimate-queue-v1',
      TP_FLAT_FEE: '3.5',
      ALERTING_ENABLED: 'true',
      ADMIN_API_TOKEN: 'prod-rehearsal-admin-token-000000000000',
      NOWPAYMENTS_IPN_SECRET: 'prod-rehearsal-webhook-secret-000000',
      JWT_SECRET_KEY: jwtKeyset,
      SIGNUP_SECRET_KEY: 'prod-rehearsal-signup-secret-key-0123456789abcdef',
      SUCCESS_URL_SIGNING_KEY: 'prod-rehearsal-success-url-signing-key-0123456789',
      DATABASE_USER_SECRET: 'pgp_app',
      DATABASE_PASSWORD_SECRET: oldPassword,
      HOST_WALLET_PRIVATE_KEY: `0x${'0'.repeat(63)}2`,
    };
    for (const [name, value] of Object.entries(prod)) await emulatedStore.put(name, value);
    // A PGP_WEBAPI_v1 instance on pgp-prod, which the keyring rotation waits for; a session token it issued before.
    const adminToken = randomBytes(24).toString('base64url');
    const instance = await startRunbookInstance({ project: 'pgp-prod', clientOptions: emulator.clientOptions(), token: adminToken });
    const sessionBefore = instance.ring().sign('session=fake-user-42');
    const env: NodeJS.ProcessEnv = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: process.env.HOME,
      LANG: 'C',
      PGP_APP_PASSWORD: oldPassword,
      SECRET_MANAGER_EMULATOR_HOST: emulator.endpoint,
      PGP_WEBAPI_ADMIN_URLS: instance.url,
      KEYSHIFT_ADMIN_TOKEN: adminToken,
      ...relay.env,
    };
    let runnable = blocks;
    if (cluster) {
      await cluster.createRole('pgp_app', oldPassword);
      Object.assign(env, { PGHOST: cluster.socketDir, PGPORT: String(cluster.port), PGUSER: 'postgres', PGDATABASE: 'postgres' });
    } else {
      runnable = blocks.filter((b) => !b.includes('--rotator pg'));
      t.diagnostic('PostgreSQL is not installed: the database password block was not run');
    }
    // After the runbook, the harness (not the runbook) reads the database password back, for the login check.
    const readBack = cluster ? 'keyshift get DATABASE_PASSWORD_SECRET --reveal >.db-password' : '';
    const script = ['set -euo pipefail', ...runnable.map((block, i) => `echo "::block ${i + 1}" >&2\n${block}`), 'echo "::done" >&2', readBack].join('\n');
    try {
      const run = await bash(script, cwd, env);
      const reached = [...run.stderr.matchAll(/^::block (\d+)$/gm)].at(-1)?.[1];
      assert.equal(run.code, 0, `block ${reached} failed:\n${runnable[Number(reached) - 1]}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
      assert.match(run.stderr, /::done/);
      const out = run.stdout;
      // Part A ran on Secret Manager (the emulator), not on the local store.
      const text = async (name: string, version?: string) => Buffer.from((await emulator.store.access(name, version)).value).toString();
      const count = async (name: string) => (await emulator.store.versions(name)).length;
      assert.match(out, /CHANGENOW_API_KEY: version 2 added/);
      assert.equal(await text('CHANGENOW_API_KEY'), 'cn_prod_rehearsal_key_2');
      assert.equal(await count('PGP_SPLIT2_URL'), 3, 'put, and the rollback put');
      assert.equal(await text('PGP_SPLIT2_URL'), 'https://pgp-split2-v1-prod.a.run.app');
      assert.equal((await emulator.store.versions('PGP_SPLIT2_URL')).find((v) => v.version === 2)?.state, 'disabled');
      assert.equal(await text('TP_FLAT_FEE'), '3.0');
      assert.equal(await text('ALERTING_ENABLED'), 'false');
      assert.match(out, /ADMIN_API_TOKEN: version 2 is current \(was 1\); rotation \S+ finished/);
      assert.match(out, /ADMIN_API_TOKEN: version 3 is current \(was 2\)/, 'the rollback is a new version');
      assert.equal(await text('ADMIN_API_TOKEN'), prod.ADMIN_API_TOKEN, 'rolled back to the first value');
      assert.match(out, /NOWPAYMENTS_IPN_SECRET: version 2 is current \(was 1\); rotation \S+ finished/);
      assert.notEqual(await text('NOWPAYMENTS_IPN_SECRET'), prod.NOWPAYMENTS_IPN_SECRET);
      assert.match(out, /SIGNUP_SECRET_KEY: version 2 is a keyset whose primary key k0 is the plain value of version 1/);
      assert.match(out, /SUCCESS_URL_SIGNING_KEY: version 2 is a keyset whose primary key k0 is the plain value of version 1/);
      assert.match(out, /JWT_SECRET_KEY: version 1 is already a keyset; nothing to do/);
      // The keyring rotation waited for the instance, promoted the new key; the session issued before still verifies.
      assert.match(out, /JWT_SECRET_KEY: version 3 is current \(was 2\); its cleanup runs after/);
      const jwt = JSON.parse(await text('JWT_SECRET_KEY')) as { keys: { kid: string; state: string }[] };
      assert.deepEqual(jwt.keys.map((k) => k.state), ['verify-only', 'primary']);
      const ring = instance.ring();
      for (let i = 0; i < 100 && ring.status().version !== '3'; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(ring.status().primary, jwt.keys[1]?.kid, 'the instance signs with the new key');
      const verified = await ring.verify(sessionBefore);
      assert.equal(verified.ok, true, JSON.stringify(verified));
      assert.match(out, /refused \(exit 1\): the wallet key is never rotated by keyshift/);
      assert.equal(await count('HOST_WALLET_PRIVATE_KEY'), 1, 'nothing written to the wallet key');
      assert.match(out, /admin at http:\/\/127\.0\.0\.1:\d+/);
      assert.match(out, /CHANGENOW_API_KEY: version 2 added/);
      assert.match(out, /CHANGENOW_API_KEY v\d+ ok/, 'the status call lists the entries');
      assert.match(out, /NOWPAYMENTS_IPN_SECRET: version 2 is current \(was 1\)/);
      assert.match(out, /"name":"CHANGENOW_API_KEY","outcome":"\w+","version":"\d+"/, 'the forced refresh answered per entry');
      assert.match(out, /PGP_SPLIT2_URL: version 3 is current \(was 2\)/, 'the rollback is a new version');
      assert.match(out, /TP_FLAT_FEE: version 3 is current \(was 2\)/);
      assert.match(out, /refused \(exit 1\): the wallet key is never rotated by keyshift/);
      for (const value of ['cn_rehearsal_key_1', 'cn_rehearsal_key_2', 'rehearsal-webhook-secret', 'signing-key-0123456789', 'signup-secret-key', oldPassword]) {
        assert.ok(!out.includes(value) && !run.stderr.includes(value), 'a value was printed');
      }
      if (cluster) {
        assert.match(out, /DATABASE_PASSWORD_SECRET: version 2 is current \(was 1\)/);
        assert.equal(await count('DATABASE_PASSWORD_SECRET'), 2, 'A6 rotated the password in Secret Manager');
        // The new password works over TCP (SCRAM); the old one no longer does.
        const login = async (password: string) => {
          const client = new pg.Client({ host: cluster.host, port: cluster.port, user: 'pgp_app', database: 'postgres', password });
          await client.connect();
          await client.end();
        };
        await login(readFileSync(join(cwd, '.db-password'), 'utf8'));
        await assert.rejects(login(oldPassword));
      }
    } finally {
      try {
        process.kill(Number(readFileSync(join(cwd, 'serve.pid'), 'utf8').trim()), 'SIGTERM');
      } catch {
        // already stopped by the runbook's last block
      }
      await relay.close();
      await instance.close();
      await cluster?.stop();
      await emulator.close();
      await emulatedStore.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
