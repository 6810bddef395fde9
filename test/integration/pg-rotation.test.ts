// Reliability tests 31-32 against a real PostgreSQL: a cluster made with initdb in a
// temporary directory, 20 concurrent clients, and credential rotations in both
// orders and between two roles. Test 33 (refused credentials, killed backends) is
// in pg-auth-failures.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { findPgBin, type PgCluster, useCluster } from '../_pg-cluster.ts';
import { rate, startLoad, waitUntil } from '../rotation/_pg-load.ts';
import { setupPool } from '../rotation/_pg-setup.ts';

const LONG_TX_MS = 2_000;
/** 20 clients: short queries 5 ms apart, and now and then a 2 s transaction on a checked-out client. */
const LOAD = { workers: 20, paceMs: 5, longEvery: 250, longMs: LONG_TX_MS };

async function sessions(cluster: PgCluster, role: string): Promise<number> {
  const r = await cluster.admin<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1', [role]);
  return Number(r.rows[0]?.n);
}

describe('Rotating pg pool: rotations under load on a real PostgreSQL', { skip: findPgBin() ? false : 'PostgreSQL is not installed' }, () => {
  const db = useCluster();

  it('Plan 31: rotates one role 20 times under 20 clients (store first, then ALTER ROLE, and the reverse) with 0 failed queries', async (t) => {
    await db().createRole('app_single', 'fake-single-0');
    const s = await setupPool(db(), 'app_single', 'fake-single-0');
    const load = startLoad(s.pool, LOAD);
    t.after(() => Promise.all([load.stop(), s.close()]));
    await sleep(300);
    const queriesPerRotation: number[] = [];
    for (let r = 1; r <= 20; r++) {
      const queriesBefore = load.stats.queries;
      const password = `fake-single-${r}`;
      const gapMs = (r * 37) % 120; // sometimes before the settle window ends, sometimes after the first check
      let version: string;
      if (r % 2 === 1) {
        version = s.put(password);
        await sleep(gapMs);
        await db().setPassword('app_single', password);
      } else {
        await db().setPassword('app_single', password);
        await sleep(gapMs);
        version = s.put(password);
      }
      await waitUntil(`rotation ${r}`, () => s.pool.status().passwordVersion === version);
      // The load goes on through the new pool before the next rotation: counted, not timed
      // (a loaded machine answers fewer queries a second, so a fixed window could see none).
      const queriesAtSwap = load.stats.queries;
      await waitUntil(`queries on the new pool after rotation ${r}`, () => load.stats.queries >= queriesAtSwap + LOAD.workers);
      queriesPerRotation.push(load.stats.queries - queriesBefore);
    }
    const stats = await load.stop();
    await waitUntil('every old pool drained', () => s.pool.status().draining === 0, LONG_TX_MS + 5_000);
    const maxDrainMs = Math.max(...s.events.drained.map((d) => d.durationMs));
    t.diagnostic(
      `single-user: ${stats.queries} queries (${rate(stats)}/s, ${stats.longTransactions} ${LONG_TX_MS} ms transactions), ${stats.failed} failed, ` +
        `20 rotations, ${s.events.swaps.length} swaps, ${s.events.authFailures.length} refused checks, ${s.events.alerts.length} alerts, ` +
        `${s.pool.status().authRetries} call retries, longest drain ${Math.round(maxDrainMs)} ms, queries per rotation ${queriesPerRotation.join(',')}`,
    );
    assert.equal(stats.failed, 0, `failures: ${JSON.stringify([...stats.errors])}`);
    assert.ok(stats.longTransactions > 0);
    assert.equal(s.events.swaps.length, 20);
    assert.equal(s.events.drained.length, 20);
    assert.ok(s.events.drained.every((d) => d.forcedClients === 0));
    assert.ok((await sessions(db(), 'app_single')) <= 20);
    await s.close();
    await waitUntil('every session closed', async () => (await sessions(db(), 'app_single')) === 0);
  });

  it('Plan 32: switches between two roles 20 times with 0 failed queries, and the inactive role keeps no session after the drain', async (t) => {
    await db().createRole('app_a', 'fake-a-0');
    await db().createRole('app_b', 'fake-b-0');
    const s = await setupPool(db(), 'app_a', 'fake-a-0', { strategy: 'alternating-users' });
    const load = startLoad(s.pool, LOAD);
    t.after(() => Promise.all([load.stop(), s.close()]));
    await sleep(300);
    const inactiveSessions: number[] = [];
    for (let k = 1; k <= 20; k++) {
      const role = k % 2 === 1 ? 'app_b' : 'app_a';
      const password = `fake-${role}-${k}`;
      await db().setPassword(role, password); // the inactive role: live sessions are not touched
      const version = s.put(password, role);
      await waitUntil(`switch ${k}`, () => s.pool.status().passwordVersion === version);
      if (k % 10 === 0) {
        await waitUntil('the drain window', () => s.pool.status().draining === 0, LONG_TX_MS + 5_000);
        inactiveSessions.push(await sessions(db(), role === 'app_a' ? 'app_b' : 'app_a'));
      } else {
        await sleep(120);
      }
    }
    const stats = await load.stop();
    t.diagnostic(
      `alternating users: ${stats.queries} queries (${rate(stats)}/s, ${stats.longTransactions} ${LONG_TX_MS} ms transactions), ${stats.failed} failed, ` +
        `20 switches, ${s.events.swaps.length} swaps, ${s.events.authFailures.length} refused checks, inactive-role sessions after drain: ${inactiveSessions.join(', ')}`,
    );
    assert.equal(stats.failed, 0, `failures: ${JSON.stringify([...stats.errors])}`);
    assert.equal(s.events.swaps.length, 20);
    assert.deepEqual(inactiveSessions, [0, 0]);
  });
});
