/**
 * Plan section E, test 35: request snapshots under churn, on the real clock. Five related
 * dynamic entries flip between set A and set B 100 times a second while requests read all
 * five, await a timer, a stream 'end' event and a loopback socket round trip (the F9
 * places a context gets lost), and read all five again.
 *
 * What keyshift guarantees is the pin: a request's second reads equal its first. Five
 * separately stored entries land one by one, so a request can start between two of
 * them; values that must change together belong in one JSON entry (checked below too).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';
import { failOnUnhandled } from './_strict.ts';

failOnUnhandled();

const SETS = {
  A: { UPSTREAM_URL: 'https://a.example/v1', QUEUE: 'queue-a', API_KEY: 'key-a', FEE: '1.5', FLAG: 'true' },
  B: { UPSTREAM_URL: 'https://b.example/v1', QUEUE: 'queue-b', API_KEY: 'key-b', FEE: '2.5', FLAG: 'false' },
} as const;
type SetName = keyof typeof SETS;

/** A loopback echo server and one client socket: an await that resolves from socket I/O, like a pg query. */
async function echo() {
  const server = createServer((s) => s.pipe(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket: Socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  const waiting: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    for (let i = 0; i < chunk.length; i++) waiting.shift()?.();
  });
  return {
    roundTrip: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        socket.write('x');
      }),
    async close() {
      socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('Plan 35: request snapshot consistency', () => {
  it('5 related entries flipped A <-> B 100 times/s under 5,000 req/s: no request sees a change between its two reads; reads outside a request are counted', async () => {
    const source = memorySource({ values: { ...SETS.A, BUNDLE: JSON.stringify(SETS.A) } });
    const ks = createKeyshift(
      defineSecrets({
        UPSTREAM_URL: { type: t.url(), category: 'service-url' },
        QUEUE: { type: t.string(), category: 'queue-name' },
        API_KEY: { type: t.string(), category: 'api-key' },
        FEE: { type: t.decimal(), category: 'app-config' },
        FLAG: { type: t.bool(), category: 'app-config' },
        BUNDLE: { type: t.json(), category: 'app-config' },
      }),
      { source, logger: false, minRefreshIntervalMs: 0 },
    );
    await ks.ready();
    const net = await echo();
    const readAll = (): string => {
      const key = ks.get('API_KEY').reveal();
      return JSON.stringify([ks.get('UPSTREAM_URL'), ks.get('QUEUE'), key, ks.get('FEE').toString(), ks.get('FLAG')]);
    };
    const setOf = (reads: string): SetName | 'mix' => {
      for (const name of ['A', 'B'] as const) {
        const s = SETS[name];
        if (reads === JSON.stringify([s.UPSTREAM_URL, s.QUEUE, s.API_KEY, s.FEE, s.FLAG === 'true'])) return name;
      }
      return 'mix';
    };
    let requests = 0;
    let changedWithin = 0;
    let bundleMixed = 0;
    const seen = new Set<SetName | 'mix'>();
    const request = () =>
      ks.run(async () => {
        const first = readAll();
        const bundle = JSON.stringify(ks.get('BUNDLE'));
        await sleep(1);
        const stream = Readable.from(['body']);
        stream.resume();
        await once(stream, 'end');
        await net.roundTrip();
        if (readAll() !== first || JSON.stringify(ks.get('BUNDLE')) !== bundle) changedWithin++;
        const b = ks.get('BUNDLE') as Record<string, string>;
        if (setOf(JSON.stringify([b.UPSTREAM_URL, b.QUEUE, b.API_KEY, b.FEE, b.FLAG === 'true'])) === 'mix') bundleMixed++;
        seen.add(setOf(first));
        requests++;
      });
    const outsideBefore = ks.status().readsOutsideSnapshot;
    let outside = 0;
    let flips = 0;
    const pending: Promise<void>[] = [];
    // by steps, not by the clock: each 5 ms step issues 25 requests (5,000/s) and every other
    // step flips the sets (100/s); a busy machine stretches the steps instead of piling up work
    for (let step = 0; step < 200; step++) {
      if (step % 2 === 0) {
        const next = SETS[flips % 2 === 0 ? 'B' : 'A'];
        for (const [name, value] of Object.entries(next)) source.set(name, value);
        source.set('BUNDLE', JSON.stringify(next));
        flips++;
      }
      for (let i = 0; i < 25; i++) pending.push(request());
      // a read from the test's own loop while requests are pinned: outside every request (F9)
      ks.get('QUEUE');
      outside++;
      await sleep(5);
    }
    await Promise.all(pending);
    await net.close();
    const metricOutside = ks.status().readsOutsideSnapshot - outsideBefore;
    await ks.close();
    assert.equal(requests, 5_000);
    assert.equal(flips, 100);
    assert.equal(changedWithin, 0, 'a request saw a value change between its two reads');
    assert.equal(bundleMixed, 0, 'one JSON entry is never seen half-updated');
    assert.ok(seen.has('A') && seen.has('B'), 'requests saw both sets');
    assert.ok(metricOutside > 0 && metricOutside <= outside, `reads outside a request counted: ${metricOutside} of ${outside}`);
  });
});
