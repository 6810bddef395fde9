import { strict as assert } from 'node:assert';
import { stat } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ErrorCodes, KeyshiftError, createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { testSource } from '../sources/_conformance.ts';
import { holdOpen } from '../_hold-open.ts';
import { runChild, tempStore } from './_helpers.ts';

const opts = (maxBytes = 64 * 1024) => ({ signal: new AbortController().signal, maxBytes });
const text = (value: string | Uint8Array | undefined): string | undefined =>
  value === undefined ? undefined : Buffer.from(value).toString('utf8');

function hasCode(code: string): (error: unknown) => boolean {
  return (error) => error instanceof KeyshiftError && error.code === code;
}

testSource('local-store', {
  async setup() {
    const env = await tempStore();
    const writer = await openLocalStore({ dir: env.dir, masterKey: env.key });
    const source = localStore({ dir: env.dir, masterKey: env.key });
    return {
      source,
      put: async (name, value) => {
        await writer.put(name, value);
      },
      teardown: async () => {
        await writer.close();
        await env.cleanup();
      },
    };
  },
  capabilities: { write: true, watch: true, sizeCap: true, ordered: true },
});

describe('Source: localStore()', () => {
  it('opens the store lazily, on the first get', async () => {
    const env = await tempStore();
    const source = localStore({ dir: env.dir, masterKey: env.key });
    try {
      await assert.rejects(stat(env.dir), { code: 'ENOENT' });
      assert.equal(await source.get('NOT_YET', opts()), undefined);
      assert.ok((await stat(env.dir)).isDirectory());
    } finally {
      await source.close?.();
      await env.cleanup();
    }
  });

  it('serves latest by default, a pinned version when asked, and the number as the version id', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    const latest = localStore({ dir: env.dir, masterKey: env.key });
    const pinned = localStore({ dir: env.dir, masterKey: env.key, version: '1' });
    try {
      await store.put('PINNED', 'fake-p1');
      await store.put('PINNED', 'fake-p2');
      const got = await latest.get('PINNED', opts());
      assert.deepEqual([got?.version, text(got?.value)], ['2', 'fake-p2']);
      const old = await pinned.get('PINNED', opts());
      assert.deepEqual([old?.version, text(old?.value)], ['1', 'fake-p1']);
      assert.equal(got?.order, 2, 'read at latest, the number is the order');
      assert.equal(old?.order, undefined, 'a pinned version or an alias carries no order (moving an alias back is explicit)');
    } finally {
      await Promise.all([latest.close?.(), pinned.close?.(), store.close()]);
      await env.cleanup();
    }
  });

  it('throws KS_ERR_VERSION_DISABLED for a disabled or destroyed latest, KS_ERR_VALUE_TOO_LARGE with the size', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    const source = localStore({ dir: env.dir, masterKey: env.key });
    try {
      await store.put('OFF', 'fake-off');
      await store.disableVersion('OFF', 1);
      await assert.rejects(source.get('OFF', opts()), hasCode(ErrorCodes.VERSION_DISABLED));
      await store.destroyVersion('OFF', 1);
      await assert.rejects(source.get('OFF', opts()), (error: unknown) => {
        assert.ok(hasCode(ErrorCodes.VERSION_DISABLED)(error));
        assert.equal((error as KeyshiftError).details.state, 'destroyed');
        return true;
      });
      await store.put('LARGE', 'x'.repeat(300));
      await assert.rejects(source.get('LARGE', opts(100)), (error: unknown) => {
        assert.ok(hasCode(ErrorCodes.VALUE_TOO_LARGE)(error));
        assert.match((error as Error).message, /300 bytes/);
        return true;
      });
    } finally {
      await Promise.all([source.close?.(), store.close()]);
      await env.cleanup();
    }
  });

  it('reports a missing store (create: false) as unavailable, and retries the open on the next call', async () => {
    const env = await tempStore();
    const source = localStore({ dir: env.dir, masterKey: env.key, create: false });
    try {
      await assert.rejects(source.get('ANY', opts()), hasCode(ErrorCodes.SOURCE_UNAVAILABLE));
      const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
      await store.put('ANY', 'fake-any');
      await store.close();
      assert.equal(text((await source.get('ANY', opts()))?.value), 'fake-any');
    } finally {
      await source.close?.();
      await env.cleanup();
    }
  });

  it('refuses calls after close() and releases its watchers', async () => {
    const env = await tempStore();
    const source = localStore({ dir: env.dir, masterKey: env.key });
    try {
      await source.get('X', opts());
      let heard = 0;
      source.watch?.(() => heard++);
      await source.close?.();
      await assert.rejects(source.get('X', opts()), hasCode(ErrorCodes.CLOSED));
      // A second watcher hears the put; by then the closed source's watcher would have too.
      const store = await openLocalStore({ dir: env.dir, masterKey: env.key, pollIntervalMs: 10 });
      const other = await openLocalStore({ dir: env.dir, masterKey: env.key, pollIntervalMs: 10 });
      const otherHeard = new Promise<void>((resolve) => other.watch(() => resolve()));
      await store.put('X', 'fake-x');
      await holdOpen(otherHeard);
      await Promise.all([store.close(), other.close()]);
      assert.equal(heard, 0);
    } finally {
      await env.cleanup();
    }
  });

  it('lets a manager serve a version put by another process without waiting for its TTL', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    await store.put('FEATURE_FLAG', 'fake-before');
    await store.close();
    const ks = createKeyshift(defineSecrets({ FEATURE_FLAG: { type: t.string(), category: 'app-config', ttlMs: 600_000 } }), {
      source: localStore({ dir: env.dir, masterKey: env.key }),
      logger: false,
    });
    try {
      await ks.ready();
      assert.equal(ks.get('FEATURE_FLAG'), 'fake-before');
      const changed = new Promise<void>((resolve) => {
        const off = ks.on('change', () => {
          off();
          resolve();
        });
      });
      const writer = await runChild(['puts', env.dir, 'FEATURE_FLAG', '1', 'after'], {
        env: { ...process.env, KEYSHIFT_MASTER_KEY: env.key },
      });
      assert.equal(writer.code, 0, writer.stderr);
      await holdOpen(changed); // the source's watcher is unref'd
      assert.equal(ks.get('FEATURE_FLAG'), 'fake-after-0');
    } finally {
      await ks.close();
      await env.cleanup();
    }
  });
});
