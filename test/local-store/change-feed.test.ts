import { strict as assert } from 'node:assert';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ChangeFeed, type StoreEvent, openLocalStore } from '../../src/local-store/index.ts';
import { holdOpen } from '../_hold-open.ts';
import { runChild, sharedNow, startChild, tempStore } from './_helpers.ts';

const ROUNDS = 10;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Resolves with the first event matching `predicate`. */
function nextEvent(subscribe: (listener: (event: StoreEvent) => void) => () => void, predicate: (e: StoreEvent) => boolean) {
  return new Promise<StoreEvent>((resolve) => {
    const dispose = subscribe((event) => {
      if (!predicate(event)) return;
      dispose();
      resolve(event);
    });
  });
}

describe('Local store: change notification across processes', () => {
  it('lets a reader in another process see every new version', async (t) => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    await store.createSecret('WATCHED');
    const reader = startChild(['watch', env.dir, 'WATCHED'], { ...process.env, KEYSHIFT_MASTER_KEY: env.key });
    try {
      await reader.next((m) => m.ready === true);
      const latencies: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const started = sharedNow(); // before the put: the latency includes the write itself
        const { version } = await store.put('WATCHED', `fake-watched-${round}`);
        const seen = await reader.next((m) => m.version === version);
        assert.equal(seen.read, version, 'the reader reads the version it was told about (or newer)');
        latencies.push((seen.at as number) - started);
      }
      latencies.sort((a, b) => a - b);
      t.diagnostic(
        `cross-process notify, from the start of put to the reader's event: p50 ${percentile(latencies, 50).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms over ${ROUNDS} puts`,
      );
    } finally {
      assert.equal(await reader.stop(), 0, 'the reader exits on its own after dispose and close');
      await store.close();
      await env.cleanup();
    }
  });

  it('delivers by polling alone when fs.watch reports nothing', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    const feed = new ChangeFeed({ dir: env.dir, pollIntervalMs: 20, listNames: async () => [], fsWatch: false });
    try {
      const seen = nextEvent((l) => feed.subscribe(l), (e) => e.type === 'version-added');
      const writer = await runChild(['puts', env.dir, 'POLLED', '1', 'p'], {
        env: { ...process.env, KEYSHIFT_MASTER_KEY: env.key },
      });
      assert.equal(writer.code, 0, writer.stderr);
      assert.deepEqual(await holdOpen(seen), { type: 'version-added', name: 'POLLED', version: 1 });
    } finally {
      feed.close();
      await store.close();
      await env.cleanup();
    }
  });

  it('reports every secret as updated when events were lost (head file removed)', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    try {
      await store.put('A', 'fake-a');
      await store.put('B', 'fake-b');
      const names = new Set<string>();
      let done: () => void = () => undefined;
      const both = new Promise<void>((resolve) => {
        done = resolve;
      });
      const dispose = store.watch((event) => {
        if (event.type === 'secret-updated') names.add(event.name);
        if (names.size === 2) done();
      });
      await unlink(join(env.dir, 'head.json'));
      await holdOpen(both);
      dispose();
      assert.deepEqual([...names].sort(), ['A', 'B']);
    } finally {
      await store.close();
      await env.cleanup();
    }
  });

  it('leaves no timer or watcher after the disposer and close()', async () => {
    const env = await tempStore();
    try {
      const run = await runChild(['resources', env.dir], { env: { ...process.env, KEYSHIFT_MASTER_KEY: env.key } });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), { alive: [] });
    } finally {
      await env.cleanup();
    }
  });
});
