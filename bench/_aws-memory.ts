/**
 * Scenario 6, run in its own process with --expose-gc (bench/aws.ts spawns it) so the
 * heap holds nothing from the other scenarios. Prints one JSON line on stdout.
 *
 * - Memory per cached secret: heap(220 entries) − heap(20 entries), over 200, so the
 *   fixed cost of a client or manager cancels out; a first, unmeasured run of the large
 *   size takes the one-time costs (the SDK loads its credential and endpoint code
 *   lazily, and V8 compiles the code paths that 220 entries make hot: a warm-up of 20
 *   left about 2 KB per entry of compiled code in the measured difference).
 * - Heap growth over refreshes: heap after a warm-up vs after the run, both after GC.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { createKeyshift, defineSecrets, t } from '../src/index.ts';
import { memorySource } from '../src/sources/memory.ts';
import { startAwsSecretsManagerServer } from '../src/testing/aws-secrets-manager-server.ts';
import type { Source } from '../src/types.ts';
import { keyshiftFor, powertoolsFor, seedSecrets } from './_aws-competitors.ts';

const SMALL = 20;
const LARGE = 220;
const CORE_REFRESHES = 50_000;
const SDK_REFRESHES = 1_000;

export interface MemoryResult {
  perSecretBytes: { keyshift: number; powertools: number; map: number };
  growth: {
    core: { refreshes: number; bytes: number; usPerRefresh: number };
    keyshiftAws: { refreshes: number; bytes: number };
    powertools: { refreshes: number; bytes: number };
  };
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** Heap once closed sockets and timers have had a moment to let go. */
async function settledHeap(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  return heap();
}

/** Heap held by what `build(n)` returns, for n entries. */
async function held<T>(n: number, build: (n: number) => Promise<T>, release: (held: T) => Promise<void> | void) {
  const before = await settledHeap();
  const value = await build(n);
  const bytes = (await settledHeap()) - before;
  await release(value);
  return bytes;
}

async function perSecret(build: (n: number) => Promise<unknown>, release: (v: never) => Promise<void> | void) {
  await held(LARGE, build, release as (v: unknown) => void);
  const small = await held(SMALL, build, release as (v: unknown) => void);
  const large = await held(LARGE, build, release as (v: unknown) => void);
  return Math.round((large - small) / (LARGE - SMALL));
}

/** Heap growth between `warmup` and `total` sequential refreshes. */
async function growth(refresh: (i: number) => Promise<unknown>, total: number): Promise<number> {
  const warmup = Math.ceil(total / 10);
  for (let i = 0; i < warmup; i++) await refresh(i);
  const before = heap();
  for (let i = warmup; i < total; i++) await refresh(i);
  return heap() - before;
}

const server = await startAwsSecretsManagerServer();
const names = Array.from({ length: LARGE }, (_, i) => `MEMORY_SECRET_${i}`);
const values = seedSecrets(server, names);

const keyshiftBytes = await perSecret(
  async (n) => {
    const ks = keyshiftFor(server, names.slice(0, n));
    await ks.ready();
    return ks;
  },
  (ks: { close(): Promise<void> }) => ks.close(),
);
const powertoolsBytes = await perSecret(
  async (n) => {
    const provider = powertoolsFor(server);
    for (const name of names.slice(0, n)) await provider.get(name);
    return provider;
  },
  (provider: { client: { destroy(): void } }) => provider.client.destroy(),
);
const mapBytes = await perSecret(
  async (n) => new Map(names.slice(0, n).map((name) => [name, Buffer.from(values.get(name) ?? '').toString()])),
  () => undefined,
);

// The core's refresh path, 5·10^4 times, over an in-process source (no network: 10^6 SDK calls would take too long).
const memory = memorySource();
memory.set('K', 'fake-value-0');
const quiet: Source = { kind: 'memory', get: (name, options) => memory.get(name, options) };
const core = createKeyshift(defineSecrets({ K: { type: t.string(), category: 'api-key' } }), {
  source: quiet,
  logger: false,
  minRefreshIntervalMs: 0,
});
await core.ready();
const coreStarted = performance.now();
const coreBytes = await growth((i) => {
  memory.set('K', `fake-value-${i % 1000}`);
  return core.refresh('K');
}, CORE_REFRESHES);
const usPerRefresh = ((performance.now() - coreStarted) * 1000) / CORE_REFRESHES;
await core.close();

const ks = keyshiftFor(server, ['MEMORY_SECRET_0'], { minRefreshIntervalMs: 0 });
await ks.ready();
const ksBytes = await growth(() => ks.refresh('MEMORY_SECRET_0'), SDK_REFRESHES);
await ks.close();
const provider = powertoolsFor(server);
const ptBytes = await growth(() => provider.get('MEMORY_SECRET_0', { forceFetch: true }), SDK_REFRESHES);
provider.client.destroy();
await server.close();

const result: MemoryResult = {
  perSecretBytes: { keyshift: keyshiftBytes, powertools: powertoolsBytes, map: mapBytes },
  growth: {
    core: { refreshes: CORE_REFRESHES, bytes: coreBytes, usPerRefresh },
    keyshiftAws: { refreshes: SDK_REFRESHES, bytes: ksBytes },
    powertools: { refreshes: SDK_REFRESHES, bytes: ptBytes },
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
