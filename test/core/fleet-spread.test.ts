import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstRefreshDelay, jittered } from '../../src/core/schedule.ts';
import { simulateFleet } from './_fleet.ts';

describe('Schedule: a fleet that starts together does not refresh together', () => {
  it('100 instances x 77 entries started in one tick: from the first TTL on, the peak per TTL/20 slice stays within 1.5x the mean', async (t) => {
    const f = await simulateFleet({ instances: 100, entries: 77, ttls: 4 });
    t.diagnostic(`start-up reads ${f.startupCalls}; refresh calls per TTL ${f.callsPerTtl.join(' ')}`);
    t.diagnostic(`peak/mean per TTL/20 slice, TTL 1..4: ${f.peakOverMean.map((r) => r.toFixed(2)).join(' ')}`);
    assert.equal(f.startupCalls, 7_700);
    for (const [i, calls] of f.callsPerTtl.entries()) {
      assert.ok(calls > 7_700 * 0.9 && calls < 7_700 * 1.1, `TTL ${i + 1}: about one refresh per entry (${calls})`);
    }
    for (const [i, ratio] of f.peakOverMean.entries()) assert.ok(ratio <= 1.5, `TTL ${i + 1}: peak/mean ${ratio.toFixed(2)}`);
  });

  // Moments a fleet shares after start: each re-arms entries in one instant on every instance, so
  // the next refresh is drawn over the whole TTL like the first (a jittered TTL kept 3-10x bursts).
  for (const [kind, from] of [
    ['governor', 3],
    ['push-all', 3],
    ['outage', 4],
  ] as const) {
    it(`${kind}: the fleet (50 x 40) sees it in one instant after 2 TTLs; from the next TTL on the peak per TTL/20 slice stays within 1.5x the mean`, async (t) => {
      const f = await simulateFleet({ instances: 50, entries: 40, ttls: 8, disturb: { kind, afterTtls: 2, outageMs: 60_000 } });
      t.diagnostic(`refresh calls per TTL ${f.callsPerTtl.join(' ')}; peak/mean ${f.peakOverMean.map((r) => r.toFixed(2)).join(' ')}`);
      for (const [i, ratio] of f.peakOverMean.entries()) {
        if (i === 2 || (kind === 'outage' && i === 3)) continue; // the push itself, the outage's retries: at once by design
        if (i >= from || i < 2) assert.ok(ratio <= 1.5, `TTL ${i + 1}: peak/mean ${ratio.toFixed(2)}`);
      }
    });
  }

  it('the first refresh is drawn over the whole TTL: uniform to TTL(1-j), tapering to TTL(1+j), never past it', () => {
    const ttl = 60_000;
    assert.equal(firstRefreshDelay(ttl, 0.1, () => 0), 0);
    assert.equal(firstRefreshDelay(ttl, 0.1, () => 0.5), 30_000);
    assert.equal(firstRefreshDelay(ttl, 0.1, () => 0.9), 54_000);
    assert.ok(Math.abs(firstRefreshDelay(ttl, 0.1, () => 1) - 66_000) < 1e-6);
    assert.equal(firstRefreshDelay(ttl, 0, () => 0.25), 15_000, 'no jitter: uniform over the TTL');
    assert.equal(firstRefreshDelay(0, 0.1, () => 0.7), 0);
    // the tail: F(t) = 0.9 + ((high-low)^2 - (high-t)^2) / (2 (high-low) ttl), so u = 0.95 sits where (66000-t)^2 = 12000^2 - 2*12000*3000
    assert.ok(Math.abs(firstRefreshDelay(ttl, 0.1, () => 0.95) - (66_000 - Math.sqrt(12_000 ** 2 - 2 * 12_000 * 3_000))) < 1e-6);
    let previous = -1;
    for (let u = 0; u < 1; u += 0.001) {
      const d = firstRefreshDelay(ttl, 0.1, () => u);
      assert.ok(d >= previous && d <= 66_000, 'monotonic in the draw, within TTL(1+j)');
      previous = d;
    }
  });

  it('without the spread (every first refresh one jittered TTL after start) the same fleet bursts: what the spread fixes', () => {
    // the schedule alone, no managers: 7,700 first refreshes at TTL ±10 %, counted per TTL/20 slice of the second TTL
    let seed = 7;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const slices = new Array<number>(20).fill(0);
    for (let i = 0; i < 7_700; i++) {
      const at = jittered(60_000, 0.1, random);
      const slice = Math.floor((at - 60_000) / 3_000);
      if (slice >= 0 && slice < 20) slices[slice] = (slices[slice] ?? 0) + 1;
    }
    const ratio = Math.max(...slices) / (slices.reduce((a, b) => a + b, 0) / 20);
    assert.ok(ratio > 3, `peak/mean ${ratio.toFixed(2)}`);
  });
});
