// A manager over a memory source plus a rotating pool on the test cluster, with
// every pool event recorded.
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createRotatingPool, type RotatingPool, type RotatingPoolEvents, type RotatingPoolOptions } from '../../src/rotation/pg/pg-pool.ts';
import { type MemorySource, memorySource } from '../../src/testing/index.ts';
import type { PgCluster } from '../_pg-cluster.ts';

export const declaration = defineSecrets({
  DATABASE_USER_SECRET: { type: t.string(), category: 'database-credential' },
  DATABASE_PASSWORD_SECRET: { type: t.string(), category: 'database-credential', rotation: 'pg-pool' },
});

export interface Recorded {
  swaps: RotatingPoolEvents['swap'][];
  drained: RotatingPoolEvents['drained'][];
  authFailures: Array<RotatingPoolEvents['auth-failure'] & { at: number }>;
  alerts: RotatingPoolEvents['alert'][];
  recovered: RotatingPoolEvents['recovered'][];
  errors: RotatingPoolEvents['error'][];
}

export interface PoolSetup {
  source: MemorySource;
  pool: RotatingPool;
  events: Recorded;
  /** Puts a new password (and user) version in the store; returns the password's version. */
  put(password: string, user?: string): string;
  close(): Promise<void>;
}

export async function setupPool(
  cluster: PgCluster,
  user: string,
  password: string,
  options: Partial<Omit<RotatingPoolOptions<typeof declaration>, 'keyshift'>> = {},
): Promise<PoolSetup> {
  const source = memorySource({ values: { DATABASE_USER_SECRET: user, DATABASE_PASSWORD_SECRET: password } });
  const ks = createKeyshift(declaration, { source, logger: false, minRefreshIntervalMs: 5 });
  await ks.ready();
  const pool = await createRotatingPool({
    keyshift: ks,
    user: 'DATABASE_USER_SECRET',
    password: 'DATABASE_PASSWORD_SECRET',
    poolConfig: { host: cluster.host, port: cluster.port, database: 'postgres', max: 20, connectionTimeoutMillis: 5_000 },
    authBackoff: { initialMs: 100, maxMs: 1_000 },
    logger: false,
    ...options,
  });
  const events: Recorded = { swaps: [], drained: [], authFailures: [], alerts: [], recovered: [], errors: [] };
  pool.on('swap', (e) => events.swaps.push(e));
  pool.on('drained', (e) => events.drained.push(e));
  pool.on('auth-failure', (e) => events.authFailures.push({ ...e, at: performance.now() }));
  pool.on('alert', (e) => events.alerts.push(e));
  pool.on('recovered', (e) => events.recovered.push(e));
  pool.on('error', (e) => events.errors.push(e));
  return {
    source,
    pool,
    events,
    put(nextPassword, nextUser) {
      if (nextUser !== undefined) source.set('DATABASE_USER_SECRET', nextUser);
      return source.set('DATABASE_PASSWORD_SECRET', nextPassword);
    },
    async close() {
      await pool.end();
      await ks.close();
    },
  };
}
