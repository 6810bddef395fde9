// Reliability test 33 against a real PostgreSQL: a wrong password put before ALTER
// ROLE, calls waiting on refused credentials, pg_terminate_backend of idle backends
// during rotations, and no password in util.inspect.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { type AlertEvent, createAlertRules } from '../../src/admin/index.ts';
import { ErrorCodes, KeyshiftError } from '../../src/index.ts';
import { findPgBin, useCluster } from '../_pg-cluster.ts';
import { rate, startLoad, waitUntil } from '../rotation/_pg-load.ts';
import { setupPool } from '../rotation/_pg-setup.ts';

describe('Rotating pg pool: refused credentials and killed backends on a real PostgreSQL', { skip: findPgBin() ? false : 'PostgreSQL is not installed' }, () => {
  const db = useCluster();

  it('Plan 33: keeps serving on a wrong password: existing connections answer, checks back off, one alert, recovery once the role is fixed', async (t) => {
    await db().createRole('app_wrong', 'fake-wrong-0');
    const s = await setupPool(db(), 'app_wrong', 'fake-wrong-0', { authBackoff: { initialMs: 200, maxMs: 2_000 } });
    const rules = createAlertRules([], { logger: false });
    const paged: AlertEvent[] = [];
    rules.on((e) => paged.push(e));
    rules.watchPool('payments-db', s.pool);
    const load = startLoad(s.pool, { workers: 10, paceMs: 10, longEvery: 0, longMs: 0 });
    t.after(() => Promise.all([load.stop(), s.close(), rules.close()]));
    await sleep(300);
    const generation = s.pool.status().generation;
    const version = s.put('fake-wrong-not-applied'); // put before ALTER ROLE
    await waitUntil('three refused checks', () => s.events.authFailures.length >= 3);
    // queries keep being answered by the existing connections while new ones are refused (a count, not a rate)
    await waitUntil('100 queries answered', () => load.stats.queries > 100, 60_000);
    const during = { ...load.stats };
    assert.equal(s.pool.status().generation, generation, 'the old pool keeps serving');
    assert.equal(s.events.alerts.length, 1);
    const times = s.events.authFailures.map((f) => f.at);
    const gaps = times.slice(1).map((at, i) => at - (times[i] as number));
    assert.ok(gaps.every((gap) => gap >= 100), `checks ${gaps.map(Math.round).join(', ')} ms apart`);
    assert.ok(s.events.authFailures.every((f) => f.sqlState === '28P01'));
    await db().setPassword('app_wrong', 'fake-wrong-not-applied'); // the fix: the role now agrees with the store
    await waitUntil('recovery', () => s.pool.status().passwordVersion === version);
    await sleep(200);
    const stats = await load.stop();
    t.diagnostic(
      `wrong password: ${stats.queries} queries (${rate(stats)}/s), ${stats.failed} failed; ${during.queries} answered by existing connections while refused; ` +
        `${s.events.authFailures.length} refused checks ${gaps.map(Math.round).join('/')} ms apart, ${s.events.alerts.length} alert, recovered after ${s.events.recovered.map((r) => r.failures).join(',')} failures`,
    );
    assert.equal(stats.failed, 0, `failures: ${JSON.stringify([...stats.errors])}`);
    assert.ok(during.queries > 100);
    assert.ok(s.events.authFailures.length <= 8, 'at most 8 checks in the first minute');
    assert.equal(s.events.alerts.length, 1);
    assert.equal(s.events.recovered.length, 1);
    // The alert rules page it once, as pool-credentials, and resolve it on recovery; never with a password.
    assert.deepEqual(paged.map((e) => `${e.state} ${e.alert.rule} ${e.alert.manager} ${e.alert.severity}`), ['firing pool-credentials payments-db critical', 'resolved pool-credentials payments-db critical']);
    assert.ok(!JSON.stringify(paged).includes('fake-wrong'));
  });

  it('Plan 33: a call waiting on refused credentials succeeds after recovery, or fails with a typed error after connectionTimeoutMillis', async (t) => {
    await db().createRole('app_wait', 'fake-wait-0');
    // A connect timeout no loaded machine reaches, so the recovery is what answers the call.
    const patient = await setupPool(db(), 'app_wait', 'fake-wait-0', { poolConfig: { host: db().host, port: db().port, database: 'postgres', connectionTimeoutMillis: 60_000 } });
    t.after(() => patient.close());
    await db().setPassword('app_wait', 'fake-wait-1'); // ALTER ROLE first; the pool has no connection yet
    const waiting = patient.pool.query('SELECT 1 AS one');
    await waitUntil('a refused check', () => patient.events.authFailures.length > 0);
    patient.put('fake-wait-1');
    assert.deepEqual((await waiting).rows, [{ one: 1 }]);
    await patient.close();

    const s = await setupPool(db(), 'app_wait', 'fake-wait-1', { poolConfig: { host: db().host, port: db().port, database: 'postgres', connectionTimeoutMillis: 1_500 } });
    t.after(() => s.close());
    assert.deepEqual((await s.pool.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
    await db().setPassword('app_wait', 'fake-wait-2');
    await db().admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_wait'");
    await waitUntil('idle clients dropped', () => s.pool.totalCount === 0);
    const started = performance.now();
    const error = await s.pool.query('SELECT 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof KeyshiftError, 'a typed error');
    assert.equal(error.code, ErrorCodes.DB_UNAVAILABLE);
    assert.ok(performance.now() - started >= 1_400, 'not before connectionTimeoutMillis');
  });

  it('Plan 33: survives pg_terminate_backend of idle backends during rotations: no crash, the error listener hears it, the pool keeps serving', async (t) => {
    await db().createRole('app_kill', 'fake-kill-0');
    const s = await setupPool(db(), 'app_kill', 'fake-kill-0');
    const load = startLoad(s.pool, { workers: 20, paceMs: 15, longEvery: 0, longMs: 0 });
    let killed = 0;
    let killing = true;
    t.after(() => {
      killing = false;
      return Promise.all([load.stop(), s.close()]);
    });
    const killer = (async () => {
      while (killing) {
        const r = await db().admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'app_kill' AND state = 'idle'");
        killed += r.rowCount ?? 0;
        await sleep(100);
      }
    })();
    for (let r = 1; r <= 5; r++) {
      const version = s.put(`fake-kill-${r}`);
      await db().setPassword('app_kill', `fake-kill-${r}`);
      await waitUntil(`rotation ${r}`, () => s.pool.status().passwordVersion === version);
      await sleep(300);
    }
    // the killer runs until it has caught an idle backend and the pool heard it (on a loaded machine five rotations may not have been enough)
    await waitUntil('an idle backend killed and heard', () => killed > 0 && s.events.errors.some((e) => e.phase === 'idle-client'), 60_000);
    killing = false;
    await killer;
    const stats = await load.stop();
    const idleErrors = s.events.errors.filter((e) => e.phase === 'idle-client').length;
    t.diagnostic(
      `terminate idle backends: ${killed} backends killed during 5 rotations, ${idleErrors} idle-client errors heard, ` +
        `${stats.queries} queries, ${stats.failed} failed (${JSON.stringify([...stats.errors])}: a backend killed as its client was handed a query)`,
    );
    assert.ok(killed > 0);
    assert.ok(idleErrors > 0);
    assert.ok(s.events.errors.every((e) => e.error instanceof KeyshiftError && e.error.code === ErrorCodes.DB_UNAVAILABLE));
    assert.deepEqual((await s.pool.query('SELECT 2 AS two')).rows, [{ two: 2 }]);
  });

  it('Plan 30: never shows the password: util.inspect of the pool and of a client, status and events', async () => {
    const canary = 'fake-canary-pw-5c1b7e';
    await db().createRole('app_canary', canary);
    const s = await setupPool(db(), 'app_canary', canary);
    const client = await s.pool.connect();
    try {
      const seen = [
        inspect(s.pool, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
        inspect(client),
        JSON.stringify(s.pool.status()),
        JSON.stringify(s.events),
      ].join('\n');
      assert.doesNotMatch(seen, new RegExp(canary));
      const hidden = inspect(client, { showHidden: true, depth: 2 });
      assert.doesNotMatch(hidden, new RegExp(canary), 'the revealed password is not kept on the client');
    } finally {
      client.release();
      await s.close();
    }
  });
});
