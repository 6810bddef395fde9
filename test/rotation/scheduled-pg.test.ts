// The pg-password rotator against a real PostgreSQL (initdb in a temporary directory):
// ALTER ROLE through an admin connection, a real test login, the new version put in
// the local store, and a rotating pool under 20 clients of load that picks it up.
// Single user and alternating users; a test login that fails leaves the current
// version serving, and the retry resumes at the test stage.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createKeyshift, ErrorCodes } from '../../src/index.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { createRotatingPool, type RotatingPool } from '../../src/rotation/pg/pg-pool.ts';
import { pgPassword } from '../../src/rotation/staged/rotators/pg-password.ts';
import { scramVerifier } from '../../src/rotation/staged/rotators/_scram-verifier.ts';
import { createRotationRunner, readState } from '../../src/rotation/staged/rotation-runner.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { findPgBin, type PgCluster, startPgCluster } from '../_pg-cluster.ts';
import { rate, startLoad, waitUntil } from './_pg-load.ts';
import { declaration } from './_pg-setup.ts';
import { spread } from './_rotation-fleet.ts';

const LOAD = { workers: 20, paceMs: 5, longEvery: 250, longMs: 1_000 };
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

describe('pg-password rotator against a real PostgreSQL', { skip: findPgBin() ? false : 'PostgreSQL is not installed' }, () => {
  let cluster: PgCluster;
  let admin: pg.Pool;
  let dir: string;
  let store: LocalStore;
  before(async () => {
    const started = await startPgCluster();
    assert.ok(started);
    cluster = started;
    admin = new pg.Pool({ host: cluster.socketDir, port: cluster.port, user: 'postgres', database: 'postgres', max: 1 });
    dir = mkdtempSync(join(tmpdir(), 'ks-rotation-pg-'));
    store = await openLocalStore({ dir });
  });
  after(async () => {
    await admin?.end();
    await store?.close();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A service instance: a manager over the local store and a rotating pool under load. */
  async function service(strategy: 'single-user' | 'alternating-users') {
    const ks = createKeyshift(declaration, { source: localStore({ dir }), logger: false, minRefreshIntervalMs: 50 });
    await ks.ready();
    const pool: RotatingPool = await createRotatingPool({
      keyshift: ks,
      user: 'DATABASE_USER_SECRET',
      password: 'DATABASE_PASSWORD_SECRET',
      strategy,
      poolConfig: { host: cluster.host, port: cluster.port, database: 'postgres', max: 20, connectionTimeoutMillis: 5_000 },
      authBackoff: { initialMs: 100, maxMs: 1_000 },
      logger: false,
    });
    const load = startLoad(pool, LOAD);
    return {
      pool,
      load,
      async close() {
        await load.stop();
        await pool.end();
        await ks.close();
      },
    };
  }

  it('computes the SCRAM-SHA-256 verifier PostgreSQL accepts (the plaintext never reaches the server)', async () => {
    await cluster.createRole('app_scram', 'fake-unused');
    await admin.query(`ALTER ROLE app_scram PASSWORD '${scramVerifier('fake-scram-password')}'`);
    const client = new pg.Client({ host: cluster.host, port: cluster.port, database: 'postgres', user: 'app_scram', password: 'fake-scram-password' });
    await client.connect();
    await client.end();
    const stored = await cluster.admin<{ rolpassword: string }>("SELECT rolpassword FROM pg_authid WHERE rolname = 'app_scram'");
    assert.match(stored.rows[0]?.rolpassword ?? '', /^SCRAM-SHA-256\$4096:/);
  });

  it('single user: 5 rotations under 20 clients with 0 failed queries; each new password reaches the pool', async (t) => {
    await cluster.createRole('app_single', 'fake-single-0');
    await store.put('DATABASE_USER_SECRET', 'app_single');
    await store.put('DATABASE_PASSWORD_SECRET', 'fake-single-0');
    const s = await service('single-user');
    t.after(() => s.close());
    const runner = createRotationRunner({ store, logger: false });
    const rotator = pgPassword({ admin, connection: { host: cluster.host, port: cluster.port, database: 'postgres' }, role: 'app_single' });
    const swaps: number[] = [];
    await new Promise((r) => setTimeout(r, 200));
    for (let r = 0; r < 5; r++) {
      const trigger = performance.now();
      const result = await runner.run('DATABASE_PASSWORD_SECRET', rotator);
      assert.equal(result.outcome, 'finished', result.error?.message);
      await waitUntil(`pool on version ${result.version}`, () => s.pool.status().passwordVersion === String(result.version));
      swaps.push(performance.now() - trigger);
      await new Promise((r) => setTimeout(r, 100));
    }
    const stats = await s.load.stop();
    const password = text((await store.access('DATABASE_PASSWORD_SECRET')).value);
    assert.match(password, /^[A-Za-z0-9]{40}$/);
    t.diagnostic(
      `pg-password single-user: 5 rotations, ${stats.failed} failed of ${stats.queries + stats.failed} queries (${rate(stats)}/s, 20 clients), ` +
        `${s.pool.status().authRetries} connects retried by the pool; trigger to the pool serving the new password: ${spread(swaps)}`,
    );
    assert.equal(stats.failed, 0, JSON.stringify([...stats.errors]));
  });

  it('alternating users: 5 rotations with 0 failed queries; a failing test login leaves the current role and password serving and is resumed', async (t) => {
    await cluster.createRole('app_a', 'fake-a-0');
    await cluster.createRole('app_b', 'fake-b-0');
    await store.put('DATABASE_USER_SECRET', 'app_a');
    await store.put('DATABASE_PASSWORD_SECRET', 'fake-a-0');
    const s = await service('alternating-users');
    t.after(() => s.close());
    const runner = createRotationRunner({ store, logger: false });
    const options = { admin, roles: ['app_a', 'app_b'] as const, userSecret: 'DATABASE_USER_SECRET', strategy: 'alternating-users' as const };
    const rotator = pgPassword({ ...options, connection: { host: cluster.host, port: cluster.port, database: 'postgres' } });
    await new Promise((r) => setTimeout(r, 200));

    // A test login that fails for real (a database that does not exist): nothing is served.
    const before = { user: (await store.getSecret('DATABASE_USER_SECRET')).latest, password: (await store.getSecret('DATABASE_PASSWORD_SECRET')).latest };
    const broken = pgPassword({ ...options, connection: { host: cluster.host, port: cluster.port, database: 'no_such_db' } });
    const failed = await runner.run('DATABASE_PASSWORD_SECRET', broken);
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.stage, 'test');
    assert.equal(failed.error?.code, ErrorCodes.DB_UNAVAILABLE);
    assert.match(failed.error?.message ?? '', /SQLSTATE 3D000/);
    assert.deepEqual(
      { user: (await store.getSecret('DATABASE_USER_SECRET')).latest, password: (await store.getSecret('DATABASE_PASSWORD_SECRET')).latest },
      before,
    );
    assert.equal(readState(await store.getSecret('DATABASE_PASSWORD_SECRET__PENDING'))?.stage, 'test');
    assert.equal(s.pool.status().passwordVersion, String(before.password));

    const switches: number[] = [];
    for (let r = 0; r < 5; r++) {
      const trigger = performance.now();
      const result = await runner.run('DATABASE_PASSWORD_SECRET', rotator);
      assert.equal(result.outcome, 'finished', result.error?.message);
      if (r === 0) assert.equal(result.attempts, 2, 'the first run resumed the failed rotation');
      await waitUntil(`pool on version ${result.version}`, () => s.pool.status().passwordVersion === String(result.version));
      switches.push(performance.now() - trigger);
      await new Promise((r) => setTimeout(r, 100));
    }
    const stats = await s.load.stop();
    const active = text((await store.access('DATABASE_USER_SECRET')).value);
    assert.equal(active, 'app_b', 'five switches from app_a end on app_b');
    t.diagnostic(
      `pg-password alternating-users: 1 failed test login + 5 rotations, ${stats.failed} failed of ${stats.queries + stats.failed} queries (${rate(stats)}/s), ` +
        `${s.pool.status().authRetries} connects retried; trigger to the pool on the new role: ${spread(switches)}`,
    );
    assert.equal(stats.failed, 0, JSON.stringify([...stats.errors]));
  });
});
