// Load for the pool rotation tests: N workers, each running short queries with a
// pause between them and, now and then, a long transaction on a checked-out client.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RotatingPool } from '../../src/rotation/pg/pg-pool.ts';

export interface LoadOptions {
  workers: number;
  /** Pause between a worker's calls. */
  paceMs: number;
  /** Every this many calls a worker runs one long transaction instead (0: never). */
  longEvery: number;
  /** Length of a long transaction (pg_sleep inside BEGIN/COMMIT). */
  longMs: number;
}

export interface LoadStats {
  queries: number;
  failed: number;
  longTransactions: number;
  /** Failure codes (SQLSTATE, KS_ERR_*, errno, or the error name and message) and counts. */
  errors: Map<string, number>;
  startedAt: number;
  stoppedAt: number;
}

export interface Load {
  readonly stats: LoadStats;
  stop(): Promise<LoadStats>;
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
}

export function startLoad(pool: RotatingPool, options: LoadOptions): Load {
  const stats: LoadStats = { queries: 0, failed: 0, longTransactions: 0, errors: new Map(), startedAt: performance.now(), stoppedAt: 0 };
  let running = true;
  const fail = (error: unknown): void => {
    stats.failed++;
    const code = codeOf(error);
    stats.errors.set(code, (stats.errors.get(code) ?? 0) + 1);
  };
  const worker = async (index: number): Promise<void> => {
    // Stagger the long transactions so a few run at any moment.
    for (let n = index * 7; running; n++) {
      try {
        if (options.longEvery > 0 && n % options.longEvery === 0 && n > 0) {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            await client.query('SELECT pg_sleep($1)', [options.longMs / 1000]);
            await client.query('COMMIT');
          } finally {
            client.release();
          }
          stats.longTransactions++;
        } else {
          const result = await pool.query<{ n: number }>('SELECT $1::int + 1 AS n', [n]);
          if (result.rows[0]?.n !== n + 1) throw new Error('wrong result');
        }
        stats.queries++;
      } catch (error) {
        fail(error);
      }
      await sleep(options.paceMs);
    }
  };
  const done = Promise.all(Array.from({ length: options.workers }, (_, i) => worker(i)));
  return {
    stats,
    async stop() {
      running = false;
      await done;
      stats.stoppedAt = performance.now();
      return stats;
    },
  };
}

/** Queries per second over the load's run. */
export function rate(stats: LoadStats): number {
  return Math.round((stats.queries + stats.failed) / ((stats.stoppedAt - stats.startedAt) / 1000));
}

/** Resolves once `check()` is true; rejects after `timeoutMs` naming what was awaited. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
