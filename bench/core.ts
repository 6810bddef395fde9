/**
 * Core bench: the cached read against Map.get and process.env in the same process,
 * 1,000 concurrent cold callers, and ready() for 77 entries at 50 ms store latency.
 * Prints a markdown section. Run: npx tsx bench/core.ts
 */
import { DEFAULT_STARTUP_CONCURRENCY } from '../src/constants.ts';
import { createKeyshift, defineSecrets, t } from '../src/index.ts';
import { memorySource } from '../src/testing/index.ts';
import { fmt, nsPerOp, percentile, table } from './_measure.ts';

const READS = Number(process.env.BENCH_READS ?? 10_000_000);

async function readCost(): Promise<string> {
  const values: Record<string, string> = {};
  const decl: Record<string, { type: ReturnType<typeof t.string>; category: 'api-key' }> = {};
  for (let i = 0; i < 77; i++) {
    values[`SECRET_${i}`] = `value-${i}`;
    decl[`SECRET_${i}`] = { type: t.string(), category: 'api-key' };
  }
  const ks = createKeyshift(defineSecrets(decl), { source: memorySource({ values }), logger: false });
  await ks.ready();
  const map = new Map(Object.entries(values));
  process.env.KS_BENCH_VAR = 'value-40';
  const get = ks.get.bind(ks) as (n: string) => unknown;
  const mapNs = nsPerOp(() => map.get('SECRET_40'), READS);
  const envNs = nsPerOp(() => process.env.KS_BENCH_VAR, READS / 10);
  const ksNs = nsPerOp(() => get('SECRET_40'), READS);
  const ksRevealNs = nsPerOp(() => (get('SECRET_40') as { reveal(): string }).reveal(), READS);
  let runNs = 0;
  await ks.run(async () => {
    runNs = nsPerOp(() => get('SECRET_40'), READS / 10);
  });
  await ks.close();
  const rows = [
    ['`Map.get` (baseline)', fmt(mapNs), '1.0×', fmt(envNs / mapNs, 2) + '× faster'],
    ['`process.env.X`', fmt(envNs), fmt(envNs / mapNs, 2) + '×', '—'],
    ['keyshift `ks.get()`', fmt(ksNs), fmt(ksNs / mapNs, 2) + '×', fmt(envNs / ksNs, 1) + '× faster'],
    ['keyshift `ks.get().reveal()`', fmt(ksRevealNs), fmt(ksRevealNs / mapNs, 2) + '×', fmt(envNs / ksRevealNs, 1) + '× faster'],
    ['keyshift `ks.get()` inside `ks.run()` (request snapshot)', fmt(runNs), fmt(runNs / mapNs, 2) + '×', fmt(envNs / runNs, 1) + '× faster'],
  ];
  return `### Plan 13: cached read cost (${READS.toExponential(0)} reads, median of 7 rounds)\n\n${table(['read', 'ns/op', 'vs Map.get', 'vs process.env'], rows)}`;
}

async function coldCallers(): Promise<string> {
  const source = memorySource({ values: { API_KEY: 'k' } });
  source.latency(50);
  const pollOnly = { kind: 'memory', get: source.get.bind(source) }; // no push: the refresh flood is the only trigger
  const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } }), { source: pollOnly, logger: false });
  const waits: number[] = [];
  await Promise.all(
    Array.from({ length: 1_000 }, async () => {
      const start = performance.now();
      await ks.ready();
      ks.get('API_KEY');
      waits.push(performance.now() - start);
    }),
  );
  const readyCalls = source.totalCalls;
  source.set('API_KEY', 'k2');
  const before = source.totalCalls;
  const refreshWaits: number[] = [];
  await Promise.all(
    Array.from({ length: 1_000 }, async () => {
      const start = performance.now();
      await ks.refresh('API_KEY', { trigger: 'admin' });
      refreshWaits.push(performance.now() - start);
    }),
  );
  const refreshCalls = source.totalCalls - before;
  await ks.close();
  return `### Plan 14: 1,000 concurrent cold callers (store latency 50 ms)\n\n${table(
    ['callers', 'store calls', 'caller p50 ms', 'caller p99 ms'],
    [
      ['1,000 × `await ready()` then read', readyCalls, fmt(percentile(waits, 0.5)), fmt(percentile(waits, 0.99))],
      ['1,000 × `refresh()` of one entry', refreshCalls, fmt(percentile(refreshWaits, 0.5)), fmt(percentile(refreshWaits, 0.99))],
    ],
  )}`;
}

async function ready77(): Promise<string> {
  const rows: Array<Array<string | number>> = [];
  for (const latency of [50]) {
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      const values: Record<string, string> = {};
      const decl: Record<string, { type: ReturnType<typeof t.string> }> = {};
      for (let i = 0; i < 77; i++) {
        values[`S_${i}`] = `v${i}`;
        decl[`S_${i}`] = { type: t.string() };
      }
      const source = memorySource({ values });
      source.latency(latency);
      const ks = createKeyshift(defineSecrets(decl), { source, logger: false });
      const start = performance.now();
      await ks.ready();
      times.push(performance.now() - start);
      await ks.close();
    }
    rows.push([77, latency, DEFAULT_STARTUP_CONCURRENCY, fmt(percentile(times, 0.5)), fmt(Math.max(...times)), fmt(percentile(times, 0.5) / latency, 2)]);
  }
  return `### Plan 17: \`ready()\` for 77 entries (5 runs)\n\n${table(['entries', 'store latency ms', 'in flight', 'median ms', 'max ms', 'round trips'], rows)}\n\n77 calls per start against a quota of 90,000 access calls/min (≈1,500/s).`;
}

const sections = [await readCost(), await coldCallers(), await ready77()];
console.log(`## Core\n\n${sections.join('\n\n')}\n`);
