import { strict as assert } from 'node:assert';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { openLocalStore } from '../../src/local-store/index.ts';
import { runChild, tempStore } from './_helpers.ts';

/** Puts per writer process. The reference plan asks 1,000; 200 keeps the suite fast. */
const PUTS_PER_WRITER = Number(process.env.KEYSHIFT_TEST_PUTS ?? 200);

describe('Local store: concurrent writers across processes', () => {
  it(`gives 2 processes x ${PUTS_PER_WRITER} puts gap-free, strictly increasing versions, none lost`, async (t) => {
    const env = await tempStore();
    const childEnv = { ...process.env, KEYSHIFT_MASTER_KEY: env.key };
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    try {
      await store.createSecret('SHARED');
      // A checker parses the store in a loop while the writers run: it must never see a torn file.
      let writing = true;
      let checks = 0;
      const checker = (async () => {
        while (writing) {
          const info = await store.getSecret('SHARED');
          if (info.latest !== undefined) await store.access('SHARED', info.latest);
          checks++;
          await sleep(5); // pace the checker: the machine has two cores for three processes
        }
      })();
      const started = performance.now();
      const runs = await Promise.all(
        ['w1', 'w2'].map((tag) => runChild(['puts', env.dir, 'SHARED', String(PUTS_PER_WRITER), tag], { env: childEnv })),
      );
      const elapsedMs = performance.now() - started;
      writing = false;
      await checker;

      const total = 2 * PUTS_PER_WRITER;
      const byWriter = runs.map((run, i) => {
        assert.equal(run.code, 0, run.stderr);
        const versions = (JSON.parse(run.stdout) as { versions: number[] }).versions;
        assert.equal(versions.length, PUTS_PER_WRITER, `writer ${i + 1}`);
        for (let k = 1; k < versions.length; k++) assert.ok(versions[k]! > versions[k - 1]!, 'each writer sees increasing versions');
        return versions;
      });
      const all = byWriter.flat().sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: total }, (_, i) => i + 1), 'versions are 1..N with no gap and no duplicate');

      const stored = await store.versions('SHARED');
      assert.deepEqual(stored.map((v) => v.version), all);
      // No lost update: every version holds what the writer that got it wrote.
      for (const [w, versions] of byWriter.entries()) {
        for (const index of [0, Math.floor(versions.length / 2), versions.length - 1]) {
          const value = Buffer.from((await store.access('SHARED', versions[index]!)).value).toString();
          assert.equal(value, `fake-w${w + 1}-${index}`);
        }
      }
      t.diagnostic(`${total} puts from 2 processes in ${Math.round(elapsedMs)} ms (including process start); checker read the store ${checks} times`);
    } finally {
      await store.close();
      await env.cleanup();
    }
  });

  it('recovers a lock left behind by a process that died', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key, lockTimeoutMs: 2_000 });
    try {
      const dead = await runChild(['open', env.dir], { env: { ...process.env, KEYSHIFT_MASTER_KEY: env.key } });
      assert.equal(dead.code, 0);
      // A pid that has exited on this host; its lock must not block writers.
      const { hostname } = await import('node:os');
      const pid = 2 ** 22 + 12_345; // above pid_max on default Linux kernels: never a live process
      await writeFile(join(env.dir, '.lock'), JSON.stringify({ pid, host: hostname(), token: 'abandoned' }));
      assert.equal((await store.put('AFTER_CRASH', 'fake-after-crash')).version, 1);
    } finally {
      await store.close();
      await env.cleanup();
    }
  });

  it('breaks a lock older than the stale age even when its pid is alive (pid reuse, another container)', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key, lockTimeoutMs: 2_000 });
    try {
      const { hostname } = await import('node:os');
      const lock = join(env.dir, '.lock');
      await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'ancient' }));
      const longAgo = new Date(Date.now() - 10 * 60_000);
      await utimes(lock, longAgo, longAgo);
      assert.equal((await store.put('AFTER_OLD_LOCK', 'fake-after-old-lock')).version, 1);
    } finally {
      await store.close();
      await env.cleanup();
    }
  });

  it('gives up on a live lock after lockTimeoutMs with KS_ERR_SOURCE_UNAVAILABLE naming it', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key, lockTimeoutMs: 50 });
    try {
      const { hostname } = await import('node:os');
      const lock = join(env.dir, '.lock');
      await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'held' }));
      await assert.rejects(store.put('BLOCKED', 'fake-blocked'), (error: unknown) => {
        assert.equal((error as { code?: string }).code, 'KS_ERR_SOURCE_UNAVAILABLE');
        assert.ok((error as Error).message.includes(lock));
        return true;
      });
    } finally {
      await store.close();
      await env.cleanup();
    }
  });
});
