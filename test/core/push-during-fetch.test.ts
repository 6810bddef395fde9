/**
 * A push that arrives while a fetch of its entry is in flight: that fetch may have read
 * the store before the new version was written, so the push's trailing fetch must not
 * join it; it waits for it and asks the store again (still one store call in flight).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createFakeClock, flush } from '../../src/testing/index.ts';

const half = () => 0.5; // jitter factor exactly 1: schedules are exact
const TTL = 60_000;

/** A store whose reads can be held: a held read answers with the version it saw when it started. */
function heldStore() {
  let version = 1;
  let held: Array<() => void> | undefined;
  let inFlight = 0;
  const watchers: Array<(names?: readonly string[]) => void> = [];
  const store = {
    calls: 0,
    peak: 0,
    write() {
      version++;
    },
    hold() {
      held = [];
    },
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
    push() {
      for (const w of watchers) w(['A']);
    },
    source: {
      kind: 'held',
      async get() {
        store.calls++;
        store.peak = Math.max(store.peak, ++inFlight);
        const seen = version;
        if (held) await new Promise<void>((resolve) => held!.push(resolve));
        inFlight--;
        return { value: `v${seen}`, version: String(seen) };
      },
      watch(fn: (names?: readonly string[]) => void) {
        watchers.push(fn);
        return () => {};
      },
    },
  };
  return store;
}

describe('Manager: a push during a fetch in flight', () => {
  type Store = ReturnType<typeof heldStore>;
  type Started = { refresh(name: 'A'): Promise<unknown> };
  const starts: ReadonlyArray<readonly [string, (ks: Started, clock: ReturnType<typeof createFakeClock>, store: Store) => Promise<void>]> = [
    [
      'a TTL fetch',
      async (_ks, clock, store) => {
        const before = store.calls;
        while (store.calls === before) await clock.tick(250); // up to the entry's first TTL refresh
      },
    ],
    ['a forced fetch less than the minimum interval before', async (ks) => void ks.refresh('A')],
  ];
  for (const [what, start] of starts) {
    it(`serves the version the push announced when it lands during ${what} that read the store before the write`, async () => {
      const clock = createFakeClock();
      const store = heldStore();
      const ks = createKeyshift(defineSecrets({ A: { type: t.string(), ttlMs: TTL } }), { source: store.source, clock, random: half, logger: false });
      await ks.ready();
      assert.equal(ks.get('A'), 'v1');
      store.hold();
      await start(ks, clock, store); // a fetch starts and reads v1, held
      await flush();
      const callsBefore = store.calls;
      store.write(); // v2 is written...
      store.push(); // ...and announced while that fetch is still in flight
      await flush();
      await clock.tick(1_000); // past the minimum interval: the push's trailing fetch is due
      store.release(); // the held fetch answers with what it saw: v1
      await flush();
      await clock.tick(1);
      await flush();
      assert.equal(ks.get('A'), 'v2', 'the push is not lost to the fetch that was in flight');
      assert.equal(store.calls - callsBefore, 1, 'one more store call for the push');
      assert.equal(store.peak, 1, 'never two store calls in flight for one entry');
      await ks.close();
    });
  }
});
