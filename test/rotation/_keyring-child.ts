// One instance of a service with an HMAC keyring over a shared local store, driven
// by keyring-processes.test.ts over IPC. Role A watches the store and runs the staged
// rotation; role B does not watch and reads through a slow store (300 ms a read,
// polled every 100 ms), so it learns every keyset version late. Never sends material.
// The wall clock is the test's (see _keyring-protocol.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/core/clock.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { addKey, createHmacKeyring, type Keyset, promoteKey, retireKeys, serializeKeyset } from '../../src/rotation/keyring/hmac-keyring.ts';
import { localStore } from '../../src/sources/local-store.ts';
import type { Source } from '../../src/types.ts';
import { CLOCK_SKEW_MS, ENTRY, type FromChild, OVERLAP_MS, TOKEN_TTL_MS, type ToChild } from './_keyring-protocol.ts';

const [role, dir, startWall] = process.argv.slice(2) as ['A' | 'B', string, string];
const send = (message: FromChild): void => void process.send?.(message);
let wall = Number(startWall);
const clock = { ...systemClock, wallNow: () => wall };
let release: Promise<void> | undefined;
let open = (): void => {};

function slowUnwatched(inner: Source): Source {
  return {
    kind: inner.kind,
    get: async (name, options) => {
      const got = await inner.get(name, options);
      await sleep(300); // what was read reaches this instance 300 ms later
      while (release) await release; // held back by the test (a `hold` message)
      return got;
    },
    close: () => inner.close?.(),
  };
}

const declaration = defineSecrets({
  [ENTRY]: { type: t.string(), category: 'signing-key', rotation: 'keyring', ...(role === 'B' ? { ttlMs: 100 } : {}) },
} as const);
const inner = localStore({ dir });
const ks = createKeyshift(declaration, { source: role === 'A' ? inner : slowUnwatched(inner), logger: false, name: `instance-${role}` });
await ks.ready();
const ring = createHmacKeyring({ keyshift: ks, entry: ENTRY, overlapMs: OVERLAP_MS, tokenTtlMs: TOKEN_TTL_MS, clockSkewMs: CLOCK_SKEW_MS, logger: false, clock });
const store = role === 'A' ? await openLocalStore({ dir }) : undefined;

let lastKids = '';
let minting = false;
const reportKids = (): void => {
  const kids = ring.kids();
  const text = JSON.stringify(kids);
  if (text !== lastKids) {
    lastKids = text;
    send({ type: 'kids', kids });
  }
};
const ticker = setInterval(() => {
  reportKids();
  if (minting) send({ type: 'tokens', tokens: Array.from({ length: 20 }, (_, i) => ring.sign(`order=${role}-${Date.now()}-${i}`)) });
}, 20);

async function current(): Promise<Keyset> {
  const latest = await (store as NonNullable<typeof store>).access(ENTRY);
  return JSON.parse(Buffer.from(latest.value).toString('utf8')) as Keyset;
}

async function write(next: Keyset): Promise<number> {
  return (await (store as NonNullable<typeof store>).put(ENTRY, serializeKeyset(next))).version;
}

process.on('message', async (message: ToChild) => {
  switch (message.type) {
    case 'mint':
      minting = message.on;
      return;
    case 'verify': {
      const results = await Promise.all(message.tokens.map((token) => ring.verify(token)));
      const failed = results.flatMap((r) => (r.ok ? [] : [{ reason: r.reason, ...(r.kid ? { kid: r.kid } : {}) }]));
      send({ type: 'verified', ok: results.length - failed.length, failed });
      return;
    }
    case 'verify-one': {
      const r = await ring.verify(message.token);
      send({ type: 'result', ok: r.ok, reason: r.ok ? 'ok' : r.reason });
      return;
    }
    case 'flood': {
      const before = ring.status().unknownKidRefreshes;
      const results = await Promise.all(Array.from({ length: message.count }, () => ring.verify(message.token)));
      const reasons = [...new Set(results.map((r) => (r.ok ? 'ok' : r.reason)))];
      send({ type: 'flooded', reasons, refreshes: ring.status().unknownKidRefreshes - before });
      return;
    }
    case 'add': {
      const version = await write(addKey(await current(), { now: wall, kid: message.kid }));
      send({ type: 'done', action: 'add', version });
      return;
    }
    case 'promote': {
      try {
        const next = promoteKey(await current(), message.kid, { now: wall, overlapMs: OVERLAP_MS, minDelayMs: message.minDelayMs, instancesReady: message.instancesReady });
        send({ type: 'done', action: 'promote', version: await write(next) });
      } catch (error) {
        send({ type: 'done', action: 'promote', refused: (error as Error).message });
      }
      return;
    }
    case 'retire':
      send({ type: 'done', action: 'retire', version: await write(retireKeys(await current(), { now: wall })) });
      return;
    case 'clock':
      wall = message.wallNow;
      send({ type: 'clock-set' });
      return;
    case 'hold':
      if (message.on && !release) release = new Promise((resolve) => (open = resolve));
      if (!message.on && release) {
        release = undefined;
        open();
      }
      send({ type: 'held' });
      return;
    case 'sync':
      send({ type: 'synced' });
      return;
    case 'stop':
      clearInterval(ticker);
      await store?.close();
      await ks.close();
      process.disconnect?.();
      return;
  }
});
send({ type: 'ready' });
