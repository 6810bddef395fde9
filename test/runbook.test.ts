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
import { startCliRelay } from './_cli-relay.ts';
import { findPgBin, startPgCluster } from './_pg-cluster.ts';
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
    for (const heading of ['## 2. Rotating each class without downtime', '## 3. Forcing a refresh', '## 4. Rolling back a bad version', '## 5. Alerts', '## 6. Why the wallet key']) {
      assert.ok(text.includes(heading), heading);
    }
    for (const rule of ['failing', 'stale-exceeded', 'rejected', 'slow-fetch', 'rotation-failed', 'pool-credentials']) {
      assert.match(text, new RegExp(`\\| \`${rule}\` \\|`), `the alert ${rule} is explained`);
    }
    const blocks = shBlocks(text);
    assert.ok(blocks.length >= 15, `${blocks.length} sh blocks`);
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
    const env: NodeJS.ProcessEnv = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: process.env.HOME,
      LANG: 'C',
      PGP_APP_PASSWORD: oldPassword,
      SECRET_MANAGER_EMULATOR_HOST: emulator.endpoint,
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
      // The production section ran on Secret Manager (the emulator), not on the local store.
      assert.match(out, /CHANGENOW_API_KEY: version 2 added/);
      assert.match(out, /NOWPAYMENTS_IPN_SECRET: version 2 is current \(was 1\); rotation \S+ finished/);
      assert.match(out, /JWT_SECRET_KEY: version 2 is a keyset whose primary key k0 is the plain value of version 1/);
      const [prodSplit2] = await emulator.store.versions('PGP_SPLIT2_URL');
      assert.ok(prodSplit2, 'PGP_SPLIT2_URL is in Secret Manager');
      assert.equal((await emulator.store.versions('PGP_SPLIT2_URL')).length, 3, 'put, put, and the rollback put');
      assert.equal(Buffer.from((await emulator.store.access('PGP_SPLIT2_URL')).value).toString(), 'https://pgp-split2-v1-prod.a.run.app');
      assert.match(out, /admin at http:\/\/127\.0\.0\.1:\d+/);
      assert.match(out, /CHANGENOW_API_KEY: version 2 added/);
      assert.match(out, /CHANGENOW_API_KEY v\d+ ok/, 'the status call lists the entries');
      assert.match(out, /NOWPAYMENTS_IPN_SECRET: version 2 is current \(was 1\)/);
      assert.match(out, /"name":"CHANGENOW_API_KEY","outcome":"\w+","version":"\d+"/, 'the forced refresh answered per entry');
      assert.match(out, /PGP_SPLIT2_URL: version 3 is current \(was 2\)/, 'the rollback is a new version');
      assert.match(out, /TP_FLAT_FEE: version 3 is current \(was 2\)/);
      assert.match(out, /refused \(exit 1\): the wallet key is never rotated by keyshift/);
      for (const value of ['cn_rehearsal_key_1', 'cn_rehearsal_key_2', 'rehearsal-webhook-secret', oldPassword]) {
        assert.ok(!out.includes(value) && !run.stderr.includes(value), 'a value was printed');
      }
      if (cluster) {
        assert.match(out, /DATABASE_PASSWORD_SECRET: version 2 is current \(was 1\)/);
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
      await cluster?.stop();
      await emulator.close();
      await emulatedStore.close();
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
