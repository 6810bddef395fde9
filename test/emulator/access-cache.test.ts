/**
 * The emulator's read cache: concurrent misses of one version share one store read (a
 * fleet told of a new version asks for it all at once), but never across a write.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessCache } from '../../src/emulator/_access-cache.ts';
import type { AccessResult } from '../../src/local-store/index.ts';

const result = (version: number): AccessResult => ({ name: 'S', version, value: new TextEncoder().encode(`fake-v${version}`) });

function deferred(): { promise: Promise<AccessResult>; resolve: (r: AccessResult) => void; reject: (e: unknown) => void } {
  let resolve!: (r: AccessResult) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<AccessResult>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Emulator: AccessCache.read', () => {
  it('gives concurrent misses of one version one store read, then serves it from memory', async () => {
    const cache = new AccessCache();
    const store = deferred();
    let reads = 0;
    const read = () => {
      reads++;
      return store.promise;
    };
    const all = Promise.all(Array.from({ length: 10 }, () => cache.read('S', 'latest', read)));
    store.resolve(result(2));
    assert.deepEqual((await all).map((r) => r.version), Array(10).fill(2));
    assert.equal(reads, 1);
    assert.equal((await cache.read('S', 'latest', read)).version, 2);
    assert.equal(reads, 1);
    // another selector is another read
    await cache.read('S', '1', async () => result(1));
    assert.equal(cache.get('S', '1')?.version, 1);
  });

  it('never lets a read that started before a write answer a caller that came after it', async () => {
    const cache = new AccessCache();
    const before = deferred();
    const first = cache.read('S', 'latest', () => before.promise);
    cache.invalidate('S'); // a write
    let reads = 0;
    const second = cache.read('S', 'latest', async () => {
      reads++;
      return result(3);
    });
    before.resolve(result(2));
    assert.equal((await first).version, 2);
    assert.equal((await second).version, 3);
    assert.equal(reads, 1);
    assert.equal(cache.get('S', 'latest')?.version, 3, 'the older read is not stored');
  });

  it('shares a failure with the callers that joined it, stores nothing, and the next caller reads again', async () => {
    const cache = new AccessCache();
    const store = deferred();
    const a = cache.read('S', 'latest', () => store.promise);
    const b = cache.read('S', 'latest', () => Promise.resolve(result(9)));
    store.reject(new Error('store unavailable'));
    await assert.rejects(a, /store unavailable/);
    await assert.rejects(b, /store unavailable/);
    assert.equal(cache.get('S', 'latest'), undefined);
    assert.equal((await cache.read('S', 'latest', async () => result(4))).version, 4);
  });
});
