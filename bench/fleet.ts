/**
 * Section 4 of issue 12: a fleet that starts in one tick. 100 instances x 77 entries
 * (TTL 60 s) on one fake clock against one memory store: store calls per TTL/20 slice,
 * peak over mean per TTL, for 8 TTLs. Counts, not timings. Baselines in the same
 * process: the schedule alone (no managers) with today's first refresh, and with the
 * old one (the first refresh one jittered TTL after start).
 */
import { firstRefreshDelay, jittered } from '../src/core/schedule.ts';
import { FLEET_SLICES, simulateFleet } from '../test/core/_fleet.ts';
import { seeded } from '../test/hardening/_load.ts';
import { fmt, table } from './_measure.ts';

const INSTANCES = 100;
const ENTRIES = 77;
const TTLS = 8;
const TTL_MS = 60_000;
const JITTER = 0.1;

/** The schedule alone: every entry's refresh times, first from `first`, then every jittered TTL. */
function scheduleOnly(first: (random: () => number) => number): number[] {
  const random = seeded(42);
  const counts = new Array<number>(TTLS * FLEET_SLICES).fill(0);
  for (let e = 0; e < INSTANCES * ENTRIES; e++) {
    for (let at = first(random); at < TTLS * TTL_MS; at += jittered(TTL_MS, JITTER, random)) {
      const slice = Math.floor(at / (TTL_MS / FLEET_SLICES));
      counts[slice] = (counts[slice] ?? 0) + 1;
    }
  }
  const ratios: number[] = [];
  for (let w = 0; w < TTLS; w++) {
    const window = counts.slice(w * FLEET_SLICES, (w + 1) * FLEET_SLICES);
    ratios.push(Math.max(...window) / (window.reduce((a, b) => a + b, 0) / FLEET_SLICES));
  }
  return ratios;
}

const fleet = await simulateFleet({ instances: INSTANCES, entries: ENTRIES, ttls: TTLS, ttlMs: TTL_MS });
const spread = scheduleOnly((random) => firstRefreshDelay(TTL_MS, JITTER, random));
const old = scheduleOnly((random) => jittered(TTL_MS, JITTER, random));
const rows = fleet.peakOverMean.map((ratio, i) => [
  `${i + 1}`,
  fleet.callsPerTtl[i] ?? 0,
  `${fmt(ratio, 2)}×`,
  `${fmt(spread[i] ?? 0, 2)}×`,
  `${fmt(old[i] ?? 0, 2)}×`,
]);
const worst = Math.max(...fleet.peakOverMean);
console.log(`## Fleet

### Issue 12 §4: ${INSTANCES} instances × ${ENTRIES} entries started in one tick (TTL 60 s, ±10 %, fake clock)

Store calls per TTL/20 slice (3 s), the largest slice over the mean slice, per TTL after start (the ${fleet.startupCalls.toLocaleString('en-US')} start-up reads excluded).

${table(['TTL', 'refresh calls', 'keyshift (managers)', 'schedule alone, first refresh spread', 'schedule alone, first refresh at TTL ±10 % (before)'], rows)}

Worst peak/mean over ${TTLS} TTLs: **${fmt(worst, 2)}×** (goal ≤ 1.5×).`);
