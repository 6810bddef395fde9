/**
 * Plan section B, the functional halves of tests 14 and 15: store call counts, not
 * timings (the timings are in bench/core.ts and bench/soak.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createFakeClock, flush, memorySource } from '../../src/testing/index.ts';
import type { Source } from '../../src/types.ts';
import { failOnUnhandled } from './_strict.ts';

failOnUnhandled();

/** A source that counts calls in flight per name and their peak. */
function counting(base: Source) {
  let inFlight = 0;
  let peak = 0;
  const source: Source = {
    kind: 'counting',
    async get(name, options) {
      inFlight++;
      peak = Math.max(peak, inFlight);
      try {
        return await base.get(name, options);
      } finally {
        inFlight--;
      }
    },
  };
  return { source, peak: () => peak };
}

describe('Plan 14: 1,000 concurrent cold callers', () => {
  it('make exactly 1 store call, and every caller gets the same value', async () => {
    const base = memorySource({ values: { API_KEY: 'cold-value' } });
    base.latency(20);
    const { source, peak } = counting(base);
    const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'app-config' } }), { source, logger: false });
    const values = await Promise.all(
      Array.from({ length: 1_000 }, async () => {
        await ks.ready();
        return ks.get('API_KEY');
      }),
    );
    assert.equal(base.totalCalls, 1);
    assert.equal(peak(), 1);
    assert.deepEqual(new Set(values), new Set(['cold-value']));
    await ks.close();
  });
});

describe('Plan 15: expiry stampede under SWR', () => {
  it('10,000 reads/s on one key with TTL 1 s for 60 s: one store call per expiry, reads never wait or fetch', async () => {
    const clock = createFakeClock();
    // every fetch takes 200 ms of (fake) store time: reads land while it is in flight
    const slow = memorySource({ values: { HOT: 'v0' }, delay: (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)) });
    slow.latency(200);
    const { source, peak } = counting(slow);
    const ks = createKeyshift(defineSecrets({ HOT: { type: t.string(), category: 'app-config', ttlMs: 1_000 } }), { source, clock, logger: false });
    await Promise.all([ks.ready(), clock.tick(200)]);
    let ttlFetches = 0;
    ks.on('fetch', (e) => {
      if (e.trigger === 'ttl') ttlFetches++;
    });
    const afterReady = slow.totalCalls;
    let reads = 0;
    let version = 0;
    for (let ms = 0; ms < 60_000; ms += 10) {
      if (ms % 500 === 0) slow.set('HOT', `v${++version}`); // values move, so each expiry matters
      for (let i = 0; i < 100; i++) {
        // 100 reads per 10 ms = 10,000/s; each is synchronous and never starts a fetch
        const before = slow.totalCalls;
        assert.equal(typeof ks.get('HOT'), 'string');
        assert.equal(slow.totalCalls, before);
        reads++;
      }
      await clock.tick(10);
    }
    await flush();
    const calls = slow.totalCalls - afterReady;
    assert.equal(reads, 600_000);
    // TTL 1 s with ±10 % jitter plus 200 ms per fetch: between 60/1.3 and 60/0.9 expiries
    assert.ok(calls >= 46 && calls <= 67, `store calls ${calls}`);
    assert.ok(Math.abs(calls - ttlFetches) <= 1, `store calls ${calls} vs expiries ${ttlFetches}`);
    assert.equal(peak(), 1, 'never more than 1 call in flight');
    await ks.close();
  });
});
