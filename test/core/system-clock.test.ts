import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heapTimersArmed } from '../../src/core/_timer-heap.ts';
import { systemClock } from '../../src/core/clock.ts';
import { LatencySamples } from '../../src/core/_latency-samples.ts';
import { LATENCY_SAMPLES } from '../../src/constants.ts';

/** Resolves once `done()` has been called `n` times; a ref'd interval holds the loop open meanwhile (the clock's timers are unref'd). */
function waitFor(n: number): { done: () => void; all: Promise<void> } {
  let left = n;
  let resolve!: () => void;
  const all = new Promise<void>((r) => {
    resolve = r;
  });
  const hold = setInterval(() => {}, 1_000);
  return {
    done: () => {
      if (--left === 0) {
        clearInterval(hold);
        resolve();
      }
    },
    all,
  };
}

describe('the system clock: one process-wide timer heap', () => {
  it('fires timers in deadline order, never before their deadline, and never a cleared one', async (t) => {
    const fired: number[] = [];
    const wait = waitFor(4);
    const early: number[] = [];
    // Each timer's deadline is known to lie between now() before and after it is armed: on a
    // loaded machine the process can be descheduled anywhere, even between the test's now()
    // and the clock's, so the order is checked for every pair whose windows do not overlap.
    const deadlines = new Map<number, { lo: number; hi: number }>();
    for (const ms of [40, 10, 30, 20]) {
      const lo = performance.now() + ms;
      systemClock.setTimeout(() => {
        fired.push(ms);
        if (performance.now() < lo) early.push(ms);
        wait.done();
      }, ms);
      deadlines.set(ms, { lo, hi: performance.now() + ms });
    }
    const cleared = systemClock.setTimeout(() => fired.push(-1), 15);
    systemClock.clearTimeout(cleared);
    systemClock.clearTimeout(cleared); // twice is harmless
    await wait.all;
    assert.deepEqual([...fired].sort(), [...deadlines.keys()].sort(), 'each timer fired once, the cleared one never');
    let ordered = 0;
    for (const [a, da] of deadlines) {
      for (const [b, db] of deadlines) {
        if (da.hi >= db.lo) continue; // a's deadline is surely before b's
        ordered++;
        assert.ok(fired.indexOf(a) < fired.indexOf(b), `the ${a} ms timer (due first) fired after the ${b} ms one: ${fired.join(', ')}`);
      }
    }
    t.diagnostic(`${ordered} of 6 pairs surely ordered by their deadlines`);
    assert.deepEqual(early, [], 'no timer fired before its deadline');
    assert.equal(heapTimersArmed(), 0, 'fired and cleared timers leave the heap');
  });

  it('a timer armed from inside a callback fires after the ones already due', async () => {
    const fired: string[] = [];
    const wait = waitFor(3);
    systemClock.setTimeout(() => {
      fired.push('a');
      wait.done();
      systemClock.setTimeout(() => {
        fired.push('c');
        wait.done();
      }, 5);
    }, 5);
    systemClock.setTimeout(() => {
      fired.push('b');
      wait.done();
    }, 5);
    await wait.all;
    assert.deepEqual(fired, ['a', 'b', 'c']);
  });
});

describe('LatencySamples: one buffer for every entry of a manager', () => {
  it('keeps each slot\'s last LATENCY_SAMPLES samples apart from the others', () => {
    const samples = new LatencySamples();
    const slots = Array.from({ length: 20 }, () => samples.add());
    assert.equal(samples.percentile(slots[3] as number, 0.5), undefined);
    for (const slot of slots) for (let i = 1; i <= LATENCY_SAMPLES + 10; i++) samples.record(slot, slot * 1_000 + i);
    // the ring overwrote the first 10 samples: slot s keeps s*1000 + 11 .. s*1000 + LATENCY_SAMPLES + 10
    const nth = (p: number) => 11 + Math.min(LATENCY_SAMPLES - 1, Math.ceil(p * LATENCY_SAMPLES) - 1);
    assert.equal(samples.percentile(0, 0.5), nth(0.5));
    assert.equal(samples.percentile(19, 0.99), 19_000 + nth(0.99));
    assert.equal(samples.percentile(7, 0.01), 7_000 + nth(0.01));
  });
});
