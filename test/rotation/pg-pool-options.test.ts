// The rotating pool's checks that need no server: declaration rules and the pacing
// of credential checks (backoff, at most 8 a minute). The real-server behaviour is
// in test/integration/pg-*.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, ErrorCodes, type KeyshiftError, t } from '../../src/index.ts';
import { AuthPacer } from '../../src/rotation/pg/_auth-pacer.ts';
import { createRotatingPool } from '../../src/rotation/pg/pg-pool.ts';
import { memorySource } from '../../src/testing/index.ts';

const declaration = defineSecrets({
  DATABASE_USER_SECRET: { type: t.string(), category: 'database-credential' },
  DATABASE_HOST_SECRET: { type: t.string(), category: 'database-credential', static: true },
  DATABASE_PASSWORD_SECRET: { type: t.string(), category: 'database-credential', rotation: 'pg-pool' },
  DATABASE_PASSWORD_STATIC: { type: t.string(), category: 'database-credential', static: true },
});

async function manager() {
  const values = { DATABASE_USER_SECRET: 'app', DATABASE_HOST_SECRET: 'db', DATABASE_PASSWORD_SECRET: 'fake-pw', DATABASE_PASSWORD_STATIC: 'fake-pw' };
  const ks = createKeyshift(declaration, { source: memorySource({ values }), logger: false });
  await ks.ready();
  return ks;
}

describe('createRotatingPool() options', () => {
  it('needs a password entry declared with rotation: pg-pool, and a dynamic user entry for alternating users', async () => {
    const ks = await manager();
    const refused = (code: string, pattern: RegExp) => (e: KeyshiftError) => e.code === code && pattern.test(e.message);
    await assert.rejects(
      createRotatingPool({ keyshift: ks, password: 'DATABASE_PASSWORD_STATIC' as never }),
      refused(ErrorCodes.INVALID_DECLARATION, /rotation: 'pg-pool'/),
    );
    await assert.rejects(createRotatingPool({ keyshift: ks, password: 'NOPE' as never }), refused(ErrorCodes.UNKNOWN_ENTRY, /NOPE/));
    await assert.rejects(
      createRotatingPool({ keyshift: ks, password: 'DATABASE_PASSWORD_SECRET', user: 'app_a', strategy: 'alternating-users' }),
      refused(ErrorCodes.INVALID_DECLARATION, /alternating-users/),
    );
    await assert.rejects(
      createRotatingPool({ keyshift: ks, password: 'DATABASE_PASSWORD_SECRET', user: 'DATABASE_HOST_SECRET', strategy: 'alternating-users' }),
      refused(ErrorCodes.INVALID_DECLARATION, /alternating-users/),
    );
    await ks.close();
  });

  it('builds no connection until used, and end() leaves nothing behind', async () => {
    const ks = await manager();
    const pool = await createRotatingPool({ keyshift: ks, password: 'DATABASE_PASSWORD_SECRET', user: 'app_fixed', poolConfig: { host: '127.0.0.1', port: 1 } });
    assert.deepEqual({ ...pool.status(), generation: 1 }, {
      generation: 1,
      frozen: false,
      userVersion: undefined,
      passwordVersion: '3',
      candidate: undefined,
      draining: 0,
      swaps: 0,
      authRetries: 0,
      totalCount: 0,
      idleCount: 0,
      waitingCount: 0,
    });
    await pool.end();
    await assert.rejects(pool.query('SELECT 1'), (e: KeyshiftError) => e.code === ErrorCodes.CLOSED);
    await ks.close();
  });
});

describe('AuthPacer', () => {
  it('Plan 33: backs off exponentially and never allows more than 8 checks in any 60 s window', () => {
    const pacer = new AuthPacer(0, { initialMs: 250, factor: 2, maxMs: 2_000, jitter: 0 }, 8, () => 0.5);
    const starts: number[] = [];
    let now = 0;
    while (now < 180_000) {
      const wait = pacer.waitMs(now);
      now += wait;
      pacer.started(now);
      starts.push(now);
      now += pacer.failed(now);
    }
    assert.deepEqual(starts.slice(0, 5), [0, 250, 750, 1_750, 3_750]);
    for (const at of starts) assert.ok(starts.filter((s) => s >= at && s < at + 60_000).length <= 8, `window at ${at}`);
    assert.equal(pacer.failures, starts.length);
  });
});
