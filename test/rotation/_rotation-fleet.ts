// A fleet of instances for the scheduled-rotation tests: N managers over one local
// store (as N processes of a service would have), a reader per instance that reads
// the rotated entry in a loop (a "request"), and a wait for every instance to serve
// a version, timed from the trigger.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { reveal } from '../../src/core/redacted.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { waitUntil } from './_pg-load.ts';

export interface Fleet {
  readonly managers: ReturnType<typeof manager>[];
  /** Reads done and failed (a read that threw or gave no value) since the start. */
  readonly requests: { ok: number; failed: number };
  /** Versions each instance served, in order. */
  served(): string[][];
  /** Resolves the ms from `since` (performance.now()) until every instance serves `version`. */
  serving(version: number | string, since: number, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * Forced refreshes of one entry closer together than the core's minimum interval (1 s by
 * default) are held back to it; the tests rotate back to back, far more often than any
 * schedule would, so their instances use 50 ms to time the rotation, not that guard.
 */
export const FLEET_MIN_REFRESH_INTERVAL_MS = 50;

function manager(dir: string, name: string, index: number) {
  const declaration = defineSecrets({ [name]: { type: t.string(), category: 'webhook-secret' } } as const);
  return createKeyshift(declaration, { source: localStore({ dir }), name: `instance-${index}`, logger: false, minRefreshIntervalMs: FLEET_MIN_REFRESH_INTERVAL_MS });
}

export async function startFleet(dir: string, name: string, size = 2): Promise<Fleet> {
  const managers = Array.from({ length: size }, (_, i) => manager(dir, name, i));
  await Promise.all(managers.map((ks) => ks.ready()));
  const arrivals = managers.map(() => new Map<string, number>());
  const order: string[][] = managers.map((ks) => [ks.status().entries[0]?.version ?? '']);
  for (const [i, ks] of managers.entries()) {
    ks.on('change', (e) => {
      arrivals[i]!.set(e.version, performance.now());
      order[i]!.push(e.version);
    });
  }
  const requests = { ok: 0, failed: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const ks of managers) {
        try {
          const value = reveal(ks.get(name as never)) as unknown;
          if (typeof value === 'string' && value.length > 0) requests.ok++;
          else requests.failed++;
        } catch {
          requests.failed++;
        }
      }
      await yieldToLoop();
    }
  })();
  return {
    managers,
    requests,
    served: () => order.map((o) => [...o]),
    async serving(version, since, timeoutMs = 60_000) {
      const v = String(version);
      await waitUntil(`every instance serving version ${v}`, () => managers.every((ks) => ks.status().entries[0]?.version === v), timeoutMs);
      return Math.max(...arrivals.map((a) => (a.get(v) ?? since) - since));
    },
    async close() {
      running = false;
      await loop;
      await Promise.all(managers.map((ks) => ks.close()));
    },
  };
}

/** p50 and max of a list of durations, rounded, for diagnostics. */
export function spread(ms: readonly number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0);
  return `p50 ${at(0.5)} ms, max ${Math.round(sorted.at(-1) ?? 0)} ms`;
}
