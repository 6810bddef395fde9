/**
 * Soak (plan test 18), scaled by duration: a manager with 5 dynamic entries at TTL 1 s
 * read at 2,000 req/s on the real clock, the store failing 10 % of the time (each 250 ms
 * slot at random: one of UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED with a retry hint, or a hung
 * call), plus 10^6 refreshes per hour of one entry (a new version each time). Reports heap
 * growth after warm-up, the RSS slope, active handles before creation and after close(),
 * MaxListenersExceededWarning count and unhandled rejections.
 *
 * Run: npx tsx bench/soak.ts --seconds 300   (default 20 s; `--json` prints the figures
 * as JSON for test/hardening/soak.test.ts). Prints a markdown section.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKeyshift, defineSecrets, ErrorCodes, t } from '../src/index.ts';
import { type MemoryFault, memorySource } from '../src/testing/index.ts';
import type { Source } from '../src/types.ts';
import { seeded } from '../test/hardening/_load.ts';
import { fmt, table } from './_measure.ts';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const SECONDS = Number(arg('--seconds') ?? process.env.BENCH_SOAK_SECONDS ?? 20);
const JSON_OUT = process.argv.includes('--json');
const RATE = Number(arg('--rate') ?? 2_000);
const FAULT_SHARE = 0.1;
/** 10^6 refreshes per hour of soak. */
const REFRESHES = Math.max(1, Math.round((1_000_000 * SECONDS) / 3_600));
const WARMUP_S = Math.min(30, Math.max(1, SECONDS / 10));
const ENTRIES = ['DB_URL', 'QUEUE', 'API_KEY', 'FEE', 'FLAG'] as const;

const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  })();

/** Handle types that keep a process alive (the check of plan test 37). */
const TRACKED = /^(Timeout|Immediate|FSEventWrap|StatWatcher|TCPSocketWrap|TCPServerWrap|TCPWrap|PipeWrap|UDPWrap|ProcessWrap|Http2Session|SignalWrap)$/;
function handles(): string[] {
  return process.getActiveResourcesInfo().filter((type) => TRACKED.test(type)).sort();
}

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export interface SoakFigures {
  seconds: number;
  requests: number;
  failedRequests: number;
  faultSeconds: number;
  refreshes: number;
  changes: number;
  storeCalls: number;
  heapGrowthMB: number;
  /** Growth of memory outside the JS heap (Buffers, ArrayBuffers), same window. */
  externalGrowthMB: number;
  rssSlopeMBPer10Min: number;
  handlesBefore: string[];
  /** Handles while running: shows the before/after check is not vacuous. */
  handlesDuring: number;
  handlesAfterClose: string[];
  maxListenerWarnings: number;
  warnings: number;
  unhandledRejections: number;
}

async function soak(): Promise<SoakFigures> {
  let unhandledRejections = 0;
  let maxListenerWarnings = 0;
  let warnings = 0;
  process.on('unhandledRejection', () => void unhandledRejections++);
  process.on('warning', (w) => {
    warnings++;
    if (w.name === 'MaxListenersExceededWarning') maxListenerWarnings++;
  });
  const random = seeded(3); // a seed whose first 3 s include a timeout, a hang and a throttle
  const handlesBefore = handles();

  const faulty = memorySource({ values: { DB_URL: 'https://api.example/v1', QUEUE: 'q-a', API_KEY: 'k-a', FEE: '1.5', FLAG: 'true' } });
  const clean = memorySource({ values: { HOT: 'hot-0' } });
  // HOT is read from an unfaulted store so its refreshes measure the refresh path, not the faults
  const source: Source = {
    kind: 'memory',
    get: (name, options) => (name === 'HOT' ? clean.get(name, options) : faulty.get(name, options)),
  };
  const decl = defineSecrets({
    DB_URL: { type: t.url(), category: 'service-url', ttlMs: 1_000 },
    QUEUE: { type: t.string(), category: 'app-config', ttlMs: 1_000 },
    API_KEY: { type: t.string(), category: 'api-key', ttlMs: 1_000 },
    FEE: { type: t.decimal(), category: 'app-config', ttlMs: 1_000 },
    FLAG: { type: t.bool(), category: 'app-config', ttlMs: 1_000 },
    HOT: { type: t.string(), category: 'api-key', ttlMs: 3_600_000 },
  });
  const ks = createKeyshift(decl, { source, logger: false, minRefreshIntervalMs: 0 });
  let changes = 0;
  const offChange = ks.on('change', () => void changes++);
  const offError = ks.on('error', () => {});
  await ks.ready();

  const started = performance.now();
  const endAt = started + SECONDS * 1000;
  let requests = 0;
  let failedRequests = 0;
  let faultSeconds = 0;
  let refreshes = 0;
  let warmHeap: number | undefined;
  let warmExternal = 0;
  const rssT: number[] = [];
  const rssMB: number[] = [];

  const faults: MemoryFault[] = [
    { code: ErrorCodes.SOURCE_UNAVAILABLE },
    { code: ErrorCodes.SOURCE_TIMEOUT },
    { code: ErrorCodes.SOURCE_THROTTLED, retryAfterMs: 2_000 },
    'hang',
  ];
  // 250 ms slots, each faulted with probability 10 %: short runs see faults too
  const faultLoop = (async () => {
    while (performance.now() < endAt) {
      if (random() < FAULT_SHARE) {
        faulty.fail(faults[Math.floor(random() * faults.length)]);
        faultSeconds += 0.25;
      } else faulty.fail(undefined);
      await sleep(250);
    }
    faulty.fail(undefined);
  })();

  const refreshLoop = (async () => {
    // spread the refreshes evenly over the run
    const perMs = REFRESHES / (SECONDS * 1000);
    while (refreshes < REFRESHES && performance.now() < endAt) {
      const due = Math.min(REFRESHES, Math.ceil((performance.now() - started) * perMs));
      for (; refreshes < due; refreshes++) {
        clean.set('HOT', `hot-${refreshes + 1}`);
        await ks.refresh('HOT', { trigger: 'manual' });
      }
      await sleep(5);
    }
  })();

  const read = (): boolean => {
    try {
      for (const name of ENTRIES) ks.get(name);
      return ks.run(() => ks.get('API_KEY') !== undefined && ks.get('HOT') !== undefined);
    } catch {
      return false;
    }
  };
  let lastSample = started;
  let handlesDuring = 0;
  while (performance.now() < endAt) {
    const now = performance.now();
    const due = Math.floor(((now - started) / 1000) * RATE);
    for (; requests < due; requests++) if (!read()) failedRequests++;
    if (now - lastSample >= 1_000) {
      lastSample = now;
      handlesDuring = Math.max(handlesDuring, handles().length);
      const s = (now - started) / 1000;
      if (warmHeap === undefined && s >= WARMUP_S) {
        gc();
        const m = process.memoryUsage();
        warmHeap = m.heapUsed;
        warmExternal = m.external;
      }
      if (s >= WARMUP_S) {
        rssT.push(s);
        rssMB.push(process.memoryUsage().rss / 2 ** 20);
      }
    }
    await sleep(5);
  }
  await Promise.all([faultLoop, refreshLoop]);
  gc();
  const { heapUsed: endHeap, external: endExternal } = process.memoryUsage();
  offChange();
  offError();
  await ks.close();
  await sleep(50); // sockets and timers are released a tick after close()
  gc();
  const handlesAfterClose = handles();
  return {
    seconds: SECONDS,
    requests,
    failedRequests,
    faultSeconds,
    refreshes,
    changes,
    storeCalls: faulty.totalCalls + clean.totalCalls,
    heapGrowthMB: (endHeap - (warmHeap ?? endHeap)) / 2 ** 20,
    externalGrowthMB: warmHeap === undefined ? 0 : (endExternal - warmExternal) / 2 ** 20,
    rssSlopeMBPer10Min: slope(rssT, rssMB) * 600,
    handlesBefore,
    handlesDuring,
    handlesAfterClose,
    maxListenerWarnings,
    warnings,
    unhandledRejections,
  };
}

const f = await soak();
if (JSON_OUT) console.log(JSON.stringify(f));
else {
  const same = f.handlesAfterClose.join(',') === f.handlesBefore.join(',');
  console.log(
    `## Soak\n\n### Plan 18: long soak, ${f.seconds} s at ${RATE.toLocaleString('en-US')} req/s (5 entries, TTL 1 s, faults ${FAULT_SHARE * 100} % of seconds) plus ${f.refreshes.toLocaleString('en-US')} refreshes of one entry\n\n${table(
      ['figure', 'value', 'bar (plan 18)'],
      [
        ['requests served / failed', `${f.requests.toLocaleString('en-US')} / ${f.failedRequests}`, '0 failed'],
        ['seconds with a store fault', fmt(f.faultSeconds, 2), `≈ ${fmt(f.seconds * FAULT_SHARE, 1)}`],
        ['store calls / change events', `${f.storeCalls.toLocaleString('en-US')} / ${f.changes.toLocaleString('en-US')}`, '—'],
        [`heap growth after ${fmt(WARMUP_S, 0)} s warm-up (MB, after gc)`, fmt(f.heapGrowthMB, 2), '≤ 5 MB'],
        ['external memory growth, same window (MB)', fmt(f.externalGrowthMB, 2), '—'],
        ['RSS slope (MB / 10 min)', fmt(f.rssSlopeMBPer10Min, 2), '< 1 MB / 10 min (meaningful from ~10 min runs)'],
        ['active handles before / peak while running / after close()', `${f.handlesBefore.length} / ${f.handlesDuring} / ${f.handlesAfterClose.length}${same ? ' (same types)' : ' (differ)'}`, 'before = after'],
        ['MaxListenersExceededWarning / all warnings', `${f.maxListenerWarnings} / ${f.warnings}`, '0'],
        ['unhandled rejections', f.unhandledRejections, '0'],
      ],
    )}\n\nThe plan's run is 1 h (\`npx tsx bench/soak.ts --seconds 3600\`); \`npm run bench\` runs a short one.\n`,
  );
}
