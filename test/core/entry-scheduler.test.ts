import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { armHeapItem, disarmHeapItem, type HeapItem, heapTimersArmed } from '../../src/core/_timer-heap.ts';
import { ErrorCodes } from '../../src/errors.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';

/** Holds the event loop open (the system clock's timers are unref'd) until `check()` is true. */
async function until(check: () => boolean, what: string): Promise<void> {
  const hold = setInterval(() => {}, 1_000);
  try {
    for (let i = 0; i < 2_000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(check(), `timed out waiting for ${what}`);
  } finally {
    clearInterval(hold);
  }
}

function item(name: string, fired: string[], again?: number): HeapItem {
  let left = again ?? 0;
  const it: HeapItem = {
    at: 0,
    seq: 0,
    index: -1,
    fire() {
      fired.push(name);
      if (left-- > 0) armHeapItem(it, 1); // re-arms itself from inside its own fire()
    },
  };
  return it;
}

describe('timer heap items: one object re-armed instead of a timer per arming', () => {
  it('re-arming moves an armed item, a fired item may re-arm itself, disarming one not armed is harmless', async () => {
    const base = heapTimersArmed();
    const fired: string[] = [];
    const a = item('a', fired, 2);
    const b = item('b', fired);
    armHeapItem(a, 5_000);
    armHeapItem(b, 5);
    assert.equal(heapTimersArmed(), base + 2);
    armHeapItem(a, 10); // moved, not added
    assert.equal(heapTimersArmed(), base + 2);
    await until(() => fired.length === 4, 'a to fire three times and b once');
    assert.deepEqual(fired, ['b', 'a', 'a', 'a']);
    assert.equal(a.index, -1);
    disarmHeapItem(a);
    disarmHeapItem(b);
    assert.equal(heapTimersArmed(), base);
  });
});

describe('EntryScheduler on the system clock', () => {
  it('each dynamic entry keeps one armed heap item through its TTL refreshes and backoff retries; close() disarms them', async () => {
    const base = heapTimersArmed();
    const source = memorySource({ values: { A: 'a-1', B: 'b-1', C: 'c-1', S: 's-1' } });
    const ks = createKeyshift(
      defineSecrets({
        A: { type: t.string(), category: 'api-key', ttlMs: 20 },
        B: { type: t.string(), category: 'api-key', ttlMs: 30 },
        C: { type: t.string(), category: 'api-key', ttlMs: 40 },
        S: { type: t.string(), category: 'api-key', static: true },
      }),
      { source, logger: false, backoff: { initialMs: 10, maxMs: 20 } },
    );
    const triggers: Record<string, string[]> = { A: [], B: [], C: [], S: [] };
    const armed: number[] = [];
    ks.on('fetch', (e) => {
      triggers[e.name]?.push(e.trigger);
      armed.push(heapTimersArmed() - base);
    });
    await ks.ready();
    assert.equal(heapTimersArmed() - base, 3, 'one armed item per dynamic entry, none for the static one');
    await ks.refresh(['A', 'B']); // forced: re-arms the TTL items already armed
    assert.equal(heapTimersArmed() - base, 3, 'a forced refresh moves the entry\'s item, it adds none');
    await until(() => ['A', 'B', 'C'].every((n) => (triggers[n]?.filter((x) => x === 'ttl').length ?? 0) >= 3), 'three TTL refreshes of each');
    source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    const retriesBefore = triggers.A?.filter((x) => x === 'retry').length ?? 0;
    await until(() => (triggers.A?.filter((x) => x === 'retry').length ?? 0) >= retriesBefore + 2, 'two backoff retries of A');
    source.fail(undefined);
    await until(() => ks.status().entries.every((e) => e.consecutiveFailures === 0), 'recovery');
    assert.ok(Math.max(...armed) <= 3, `never more than one item per dynamic entry (saw ${Math.max(...armed)})`);
    assert.deepEqual(triggers.S, ['startup'], 'the static entry is read once');
    await ks.close();
    assert.equal(heapTimersArmed(), base, 'close() leaves no item armed');
  });
});
