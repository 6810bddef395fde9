/**
 * Freshness without background CPU (freshness: 'requests'): with timers frozen between
 * requests (a clock whose timers never fire, as under Cloud Run's request-based billing),
 * the first request after a TTL starts the refresh off its read path, and a request that
 * follows sees the new value. Every adapter's snapshot middleware ticks through run().
 */
import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { keyshiftSnapshot as expressSnapshot } from '../../src/adapters/express.ts';
import { keyshiftSnapshot as fastifySnapshot } from '../../src/adapters/fastify.ts';
import { keyshiftSnapshot as honoSnapshot } from '../../src/adapters/hono.ts';
import { withSnapshot } from '../../src/adapters/node-http.ts';
import { RequestDrivenTimers } from '../../src/core/request-driven.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';
import type { Clock, Source, TimerHandle } from '../../src/types.ts';

/** Time moves only when set; timers are recorded and never fire. */
function frozenClock() {
  let now = 0;
  let armed = 0;
  const clock: Clock & { set(ms: number): void; readonly armed: number; reads: number } = {
    reads: 0,
    now() {
      clock.reads++;
      return now;
    },
    wallNow: () => 1_700_000_000_000 + now,
    setTimeout: () => {
      armed++;
      return armed as unknown as TimerHandle;
    },
    clearTimeout: () => {},
    set: (ms) => {
      now = ms;
    },
    get armed() {
      return armed;
    },
  };
  return clock;
}

/** A memory source that cannot watch: only polling (TTL refreshes) can see a new version. */
function pollOnly(values: Record<string, string>) {
  const inner = memorySource({ values });
  return { source: { kind: inner.kind, get: inner.get.bind(inner) } as Source, set: (name: string, value: string) => inner.set(name, value) };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};
const declaration = defineSecrets({ API_KEY: { type: t.string(), ttlMs: 60_000 } });

describe("freshness: 'requests'", () => {
  it('arms no timer; the first request after the TTL starts the refresh, the next one sees the new value', async (tc) => {
    const clock = frozenClock();
    const { source, set } = pollOnly({ API_KEY: 'fake-v1' });
    // random 0.999: the first refresh, spread over the TTL, falls at 64.8 s; the next ones 66 s apart
    const ks = createKeyshift(declaration, { source, clock, freshness: 'requests', logger: false, random: () => 0.999 });
    const fetches: string[] = [];
    ks.on('fetch', (e) => fetches.push(e.trigger));
    await ks.ready();
    const armedAfterReady = clock.armed;
    set('API_KEY', 'fake-v2');

    clock.set(59_000); // before the TTL: nothing is due
    assert.equal(ks.run(() => ks.get('API_KEY')), 'fake-v1');
    await settle();
    assert.deepEqual(fetches, ['startup']);

    clock.set(66_000); // past the (first) TTL, with timers frozen since ready()
    const before = clock.reads;
    assert.equal(ks.run(() => ks.get('API_KEY')), 'fake-v1', 'the request that starts the refresh reads what was there');
    assert.equal(clock.reads - before, 1, 'one clock read per request');
    await settle();
    assert.deepEqual(fetches, ['startup', 'ttl']);
    assert.equal(ks.run(() => ks.get('API_KEY')), 'fake-v2', 'the following request sees the new value');
    assert.equal(clock.armed - armedAfterReady, 1, 'the only timer armed since ready() is the refresh\'s own call deadline');

    assert.equal(ks.tick(), 0, 'the next refresh is a TTL away');
    clock.set(66_000 + 66_000);
    assert.equal(ks.tick(), 1, 'tick() starts what is due, as a request would');
    await settle();
    assert.deepEqual(fetches, ['startup', 'ttl', 'ttl']);
    tc.diagnostic('staleness after a TTL: one request (the first request past the TTL serves the old value and starts the refresh; the next serves the new one)');
    await ks.close();
  });

  it('every adapter\'s snapshot middleware ticks (node:http, Express, Fastify, Hono)', async () => {
    const adapters: Array<[string, (ks: ReturnType<typeof createKeyshift<typeof declaration>>) => Promise<{ get(): Promise<string>; close(): Promise<void> }>]> = [
      [
        'node:http',
        async (ks) => {
          const server = createServer(withSnapshot(ks, (_req, res) => res.end(ks.get('API_KEY'))));
          await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
          const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
          return { get: async () => (await fetch(url)).text(), close: () => new Promise((resolve) => server.close(() => resolve())) };
        },
      ],
      [
        'express',
        async (ks) => {
          const app = express();
          app.use(expressSnapshot(ks));
          app.get('/', (_req, res) => void res.send(ks.get('API_KEY')));
          const server = app.listen(0, '127.0.0.1');
          await new Promise((resolve) => server.once('listening', resolve));
          const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
          return { get: async () => (await fetch(url)).text(), close: () => new Promise((resolve) => server.close(() => resolve())) };
        },
      ],
      [
        'fastify',
        async (ks) => {
          const app = Fastify();
          app.addHook('onRequest', fastifySnapshot(ks));
          app.get('/', async () => ks.get('API_KEY'));
          return { get: async () => (await app.inject({ method: 'GET', url: '/' })).body, close: () => app.close() };
        },
      ],
      [
        'hono',
        async (ks) => {
          const app = new Hono();
          app.use(honoSnapshot(ks));
          app.get('/', (c) => c.text(ks.get('API_KEY')));
          return { get: async () => (await app.request('/')).text(), close: async () => {} };
        },
      ],
    ];
    for (const [name, mount] of adapters) {
      const clock = frozenClock();
      const { source, set } = pollOnly({ API_KEY: 'fake-v1' });
      const ks = createKeyshift(declaration, { source, clock, freshness: 'requests', logger: false, random: () => 0.5 });
      await ks.ready();
      const app = await mount(ks);
      try {
        set('API_KEY', 'fake-v2');
        clock.set(61_000);
        assert.equal(await app.get(), 'fake-v1', `${name}: the first request past the TTL`);
        await settle();
        assert.equal(await app.get(), 'fake-v2', `${name}: the request after it`);
      } finally {
        await app.close();
        await ks.close();
      }
    }
  });

  it('RequestDrivenTimers: fires only what is due, each once, in a microtask; clear() forgets all', async () => {
    let now = 0;
    const timers = new RequestDrivenTimers({ now: () => now });
    const fired: string[] = [];
    timers.setTimeout(() => fired.push('a'), 100);
    const b = timers.setTimeout(() => fired.push('b'), 50);
    timers.setTimeout(() => fired.push('c'), 300);
    timers.clearTimeout(b);
    now = 200;
    assert.equal(timers.tick(), 1);
    assert.deepEqual(fired, [], 'never inside the caller');
    await Promise.resolve();
    assert.deepEqual(fired, ['a']);
    assert.equal(timers.tick(), 0);
    timers.clear();
    now = 1_000;
    assert.equal(timers.tick(), 0);
    assert.equal(timers.pending, 0);
  });

  it("the default 'timers' mode: tick() does nothing; a bad mode is refused", async () => {
    const ks = createKeyshift(declaration, { source: memorySource({ values: { API_KEY: 'fake-v1' } }), logger: false });
    await ks.ready();
    assert.equal(ks.tick(), 0);
    await ks.close();
    assert.throws(() => createKeyshift(declaration, { source: memorySource(), freshness: 'sometimes' as never }), /freshness must be/);
  });
});
