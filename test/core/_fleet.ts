/**
 * A fleet on one fake clock: `instances` managers of `entries` dynamic entries each,
 * started in the same tick against one memory store, for `ttls` TTLs. Counts store
 * calls per TTL/20 slice (counts of the fake clock, never timings). Shared by the
 * fleet-spread test and the bench.
 */
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createFakeClock, memorySource } from '../../src/testing/index.ts';
import type { Source } from '../../src/types.ts';

export interface FleetFigures {
  /** Per TTL window: the largest count of refresh calls in one TTL/20 slice over the mean per slice. */
  peakOverMean: number[];
  /** Refresh calls per TTL window (start-up reads excluded). */
  callsPerTtl: number[];
  startupCalls: number;
}

export const FLEET_SLICES = 20;

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Something the whole fleet sees in one instant, `afterTtls` TTLs after start: the
 * notification governor's TTL changing (`governor`), a store outage of `outageMs`
 * (`outage`), a push that names no key (`push-all`, as a change feed without names).
 */
export interface FleetDisturbance {
  kind: 'governor' | 'outage' | 'push-all';
  afterTtls: number;
  outageMs?: number;
}

export async function simulateFleet(options: { instances: number; entries: number; ttls: number; ttlMs?: number; seed?: number; disturb?: FleetDisturbance }): Promise<FleetFigures> {
  const { instances, entries, ttls, ttlMs = 60_000, seed = 1, disturb } = options;
  const clock = createFakeClock();
  const names = Array.from({ length: entries }, (_, i) => `ENTRY_${String(i).padStart(3, '0')}`);
  const store = memorySource({ values: Object.fromEntries(names.map((n) => [n, `value-of-${n}`])) });
  const slice = ttlMs / FLEET_SLICES;
  const counts = new Array<number>(ttls * FLEET_SLICES).fill(0);
  let refreshing = false;
  let startupCalls = 0;
  const pushes = new Set<(keys?: readonly string[]) => void>();
  const governed = new Set<() => void>();
  const governor = {
    ttlMs: (declared: number) => declared,
    onChange(listener: () => void) {
      governed.add(listener);
      return () => void governed.delete(listener);
    },
  };
  const counted: Source = {
    kind: 'memory',
    watch(onChange) {
      pushes.add(onChange);
      return () => void pushes.delete(onChange);
    },
    get(name, opts) {
      if (!refreshing) startupCalls++;
      else {
        const at = Math.floor(clock.now() / slice);
        if (at < counts.length) counts[at] = (counts[at] ?? 0) + 1;
      }
      return store.get(name, opts);
    },
  };
  const declaration = defineSecrets(Object.fromEntries(names.map((n) => [n, { type: t.string(), category: 'app-config' as const, ttlMs }])));
  const fleet = Array.from({ length: instances }, (_, i) =>
    createKeyshift(declaration, { source: counted, clock, random: seeded(seed * 100_003 + i), logger: false, ...(disturb?.kind === 'governor' ? { notifications: governor } : {}) }),
  );
  await Promise.all(fleet.map((ks) => ks.ready()));
  refreshing = true;
  if (disturb) {
    await clock.tick(disturb.afterTtls * ttlMs);
    let spent = 0;
    if (disturb.kind === 'governor') for (const listener of governed) listener();
    if (disturb.kind === 'push-all') for (const push of pushes) push(undefined);
    if (disturb.kind === 'outage') {
      store.fail({ code: 'KS_ERR_SOURCE_UNAVAILABLE' });
      spent = disturb.outageMs ?? ttlMs;
      await clock.tick(spent);
      store.fail(undefined);
    }
    await clock.tick((ttls - disturb.afterTtls) * ttlMs - spent);
  } else await clock.tick(ttls * ttlMs);
  await Promise.all(fleet.map((ks) => ks.close()));
  const peakOverMean: number[] = [];
  const callsPerTtl: number[] = [];
  for (let w = 0; w < ttls; w++) {
    const window = counts.slice(w * FLEET_SLICES, (w + 1) * FLEET_SLICES);
    const total = window.reduce((a, b) => a + b, 0);
    callsPerTtl.push(total);
    peakOverMean.push(Math.max(...window) / (total / FLEET_SLICES));
  }
  return { peakOverMean, callsPerTtl, startupCalls };
}
