/**
 * Scenario 6, run in its own process with --expose-gc (bench/aws.ts spawns it) so the
 * heap holds nothing from the other scenarios. Prints one JSON line on stdout.
 *
 * - Memory per cached secret: heap(1,220 entries) − heap(220 entries), over 1,000, so
 *   the fixed cost of a client or manager cancels out; a first, unmeasured run of the
 *   large size takes the one-time costs (the SDK loads its credential and endpoint code
 *   lazily). Both sizes are large enough that V8 has compiled the same hot paths (HTTP
 *   client and server, SDK middleware) in both runs: between 20 and 220 entries, a
 *   heap-snapshot diff found about 1 KB per entry of optimized code and feedback vectors
 *   (code that 220 sequential calls make hot and 20 do not), for every contender alike.
 *   The heap figure is what process.memoryUsage().heapUsed counts; `external` is the
 *   memory outside the JS heap that the entries hold (ArrayBuffer stores: keyshift's
 *   latency samples, 128 per entry).
 * - Heap growth over refreshes: heap after a warm-up vs after the run, both after GC.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { createKeyshift, defineSecrets, t } from '../src/index.ts';
import { memorySource } from '../src/sources/memory.ts';
import { startAwsSecretsManagerServer } from '../src/testing/aws-secrets-manager-server.ts';
import type { Source } from '../src/types.ts';
import { keyshiftFor, powertoolsFor, seedSecrets } from './_aws-competitors.ts';

const SMALL = 220;
const LARGE = 1_220;
const CORE_REFRESHES = 50_000;
const SDK_REFRESHES = 1_000;

export interface MemoryResult {
  /** Heap per entry: (heap at LARGE − heap at SMALL) / (LARGE − SMALL), same process, after GC. */
  perSecretBytes: { keyshift: number; powertools: number; map: number };
  /** ArrayBuffer memory per entry (outside the heap), same method. */
  perSecretExternalBytes: { keyshift: number; powertools: number; map: number };
  /** Entries of the two sizes; keyshift fetches that failed while building them (0 for a healthy figure). */
  entries: { small: number; large: number; failedFetches: number };
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

/** Heap and ArrayBuffer memory once closed sockets and timers have had a moment to let go. */
async function settled(): Promise<{ heap: number; external: number }> {
  await new Promise((resolve) => setTimeout(resolve, 100));
  return { heap: heap(), external: process.memoryUsage().arrayBuffers };
}

/** Memory held by what `build(n)` returns, for n entries. */
async function held<T>(n: number, build: (n: number) => Promise<T>, release: (held: T) => Promise<void> | void) {
  const before = await settled();
  const value = await build(n);
  const after = await settled();
  await release(value);
  return { heap: after.heap - before.heap, external: after.external - before.external };
}

async function perSecret(build: (n: number) => Promise<unknown>, release: (v: never) => Promise<void> | void) {
  await held(LARGE, build, release as (v: unknown) => void);
  const small = await held(SMALL, build, release as (v: unknown) => void);
  const large = await held(LARGE, build, release as (v: unknown) => void);
  return {
    heap: Math.round((large.heap - small.heap) / (LARGE - SMALL)),
    external: Math.round((large.external - small.external) / (LARGE - SMALL)),
  };
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

/** Fetches that failed while the caches were built: an entry that failed keeps its error state, so the figure is not a healthy cache's. */
let failedFetches = 0;
const keyshiftBytes = await perSecret(
  async (n) => {
    // a generous deadline: on a loaded machine a batch call can pass the default 3 s
    const ks = keyshiftFor(server, names.slice(0, n), { fetchTimeoutMs: 30_000 });
    await ks.ready();
    for (const entry of ks.status().entries) failedFetches += entry.fetches.failure;
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
  perSecretBytes: { keyshift: keyshiftBytes.heap, powertools: powertoolsBytes.heap, map: mapBytes.heap },
  perSecretExternalBytes: { keyshift: keyshiftBytes.external, powertools: powertoolsBytes.external, map: mapBytes.external },
  entries: { small: SMALL, large: LARGE, failedFetches },
  growth: {
    core: { refreshes: CORE_REFRESHES, bytes: coreBytes, usPerRefresh },
    keyshiftAws: { refreshes: SDK_REFRESHES, bytes: ksBytes },
    powertools: { refreshes: SDK_REFRESHES, bytes: ptBytes },
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
