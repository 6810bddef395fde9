/**
 * The demo `npm start` runs: a local store seeded with dummy values, four PGP_v1 services
 * on keyshift under load, the ChangeNow stand-in, the admin dashboard, and a rotation of
 * CHANGENOW_API_KEY every few seconds, by keyshift's rotation runner and the ChangeNow
 * hook (changenow-hook.ts), that reaches the services by push, with zero failed requests.
 * Beside it, once, the canary (run-canary.ts): a good key rolls out in slices over a fleet
 * of HOSTPAY2 instances, and a bad one is halted by the first slice; its failed requests
 * are counted apart.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'keyshift';
import { type LocalStore, openLocalStore } from 'keyshift/local-store';
import { createRotationRunner } from 'keyshift/rotation';
import { type ChangeNowServerStats, startChangeNowServer } from '../stand-ins/changenow-server.ts';
import { startAdminServer } from './admin-server.ts';
import { changeNowHook } from './changenow-hook.ts';
import { type CanarySummary, runCanary } from './run-canary.ts';
import { ENTRY, rotateChangeNowKey } from './key-rotator.ts';
import { type LiveLineStream, liveLine } from './live-line.ts';
import { type LoadStats, startLoad } from './load-generator.ts';
import { startPlatform } from './platform.ts';
import { seedStore } from './seed-store.ts';

export interface DemoOptions {
  /** Stop after `rotations` rotations and print a summary. Default false: run until `signal` aborts. */
  once?: boolean;
  /** Rotations in `once` mode. Default 5. */
  rotations?: number;
  /** Time between rotations. Default 4,000 ms (1,500 ms with `once`). */
  intervalMs?: number;
  /** How long the stand-in keeps accepting the previous key. Default 3,000 ms. */
  graceMs?: number;
  /** Requests per second over all services. Default 50. */
  ratePerSec?: number;
  /** Store directory. Default `.keyshift/demo` (kept), or a temporary one removed at the end with `once`. */
  storeDir?: string;
  /** Port of the admin server. Default 0 (any free port). */
  adminPort?: number;
  /** Run the canary part (run-canary.ts) once, beside the rotations. Default true. */
  canary?: boolean;
  /** The canary's bake time. Default 6,000 ms. */
  canaryBakeMs?: number;
  /** Where the demo writes. Default process.stdout. */
  out?: LiveLineStream;
  /** Aborting it stops the demo cleanly (Ctrl-C). */
  signal?: AbortSignal;
}

export interface DemoSummary {
  requests: number;
  failed: number;
  lastFailure: string | undefined;
  rotations: number;
  /** Per rotation: ms until every CHANGENOW_API_KEY holder served the new version (undefined: never did). */
  propagationMs: (number | undefined)[];
  standIn: ChangeNowServerStats;
  /** The canary part; undefined when it was off. Its failed requests are not in `failed`. */
  canary: CanarySummary | undefined;
  /** No failed request, every rotation reached every holder, and a canary that finished passed. */
  passed: boolean;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const out = options.out ?? process.stdout;
  const once = options.once ?? false;
  const rotations = once ? (options.rotations ?? 5) : Number.POSITIVE_INFINITY;
  const intervalMs = options.intervalMs ?? (once ? 1_500 : 4_000);
  const graceMs = options.graceMs ?? 3_000;
  const signal = options.signal ?? new AbortController().signal;
  const line = liveLine(out);
  const logger: Logger = {
    info: () => {},
    warn: (obj, msg) => line.log(`  warn: ${msg} ${JSON.stringify(obj)}`),
    error: (obj, msg) => line.log(`  error: ${msg} ${JSON.stringify(obj)}`),
  };

  const temporary = once && options.storeDir === undefined;
  const dir = temporary ? await mkdtemp(join(tmpdir(), 'keyshift-demo-')) : resolve(options.storeDir ?? '.keyshift/demo');
  const cleanups: (() => Promise<unknown>)[] = [];
  const propagation: (number | undefined)[] = [];
  let stats: Readonly<LoadStats> = { ok: 0, failed: 0, inFlight: 0, lastFailure: undefined };
  let standInStats: ChangeNowServerStats = { current: 0, previous: 0, refused: 0 };
  let canary: Promise<CanarySummary | undefined> = Promise.resolve(undefined);
  let canarySummary: CanarySummary | undefined;
  try {
    const store: LocalStore = await openLocalStore({ dir });
    cleanups.push(() => store.close());
    const runner = createRotationRunner({ store, logger });
    await runner.abandon(ENTRY); // a rotation a Ctrl-C cut short: its key was issued by a stand-in that is gone
    const { seeded, changeNowKey } = await seedStore(store);
    const standIn = await startChangeNowServer({ apiKey: changeNowKey, graceMs });
    cleanups.push(() => standIn.close());
    standInStats = standIn.stats;
    const platform = await startPlatform({ store, changeNowUrl: standIn.url, logger });
    cleanups.push(() => platform.close());
    const admin = await startAdminServer(platform.managers, { logger, port: options.adminPort ?? 0 });
    cleanups.push(() => admin.close());
    // The token is a secret too: it goes to a file only its owner can read, never to the terminal.
    const tokenFile = join(dir, 'admin-token');
    await writeFile(tokenFile, `${admin.token}\n`, { mode: 0o600 });
    cleanups.push(() => rm(tokenFile, { force: true }));

    const { split1, split2, hostpay2, accumulator } = platform.services;
    out.write(
      [
        'keyshift demo: the PGP_v1 reference platform, hot-reloading its secrets',
        `  store      ${dir} (${seeded} values seeded${temporary ? ', removed at exit' : ''})`,
        ...[split1, split2, hostpay2, accumulator].map((s) => `  ${s.name.padEnd(19)} ${s.url}`),
        `  ChangeNow  stand-in at ${standIn.url} (previous key accepted for ${graceMs} ms)`,
        `  dashboard  ${admin.dashboardUrl}`,
        `  token      cat ${tokenFile}   (paste it in the dashboard's login form)`,
        `  rotating   CHANGENOW_API_KEY every ${intervalMs / 1_000} s${once ? `, ${rotations} times` : ' (Ctrl-C to stop)'}`,
        '             by the changenow hook: issue a key at the provider, test it, put it, revoke the old key',
        '',
      ].join('\n'),
    );

    let id = 0;
    const load = startLoad({
      ratePerSec: options.ratePerSec ?? 50,
      targets: [
        { name: `${split1.name} POST /payment`, url: `${split1.url}payment`, method: 'POST', body: () => ({ amountUsd: '100.00' }) },
        { name: `${hostpay2.name} GET /status`, url: `${hostpay2.url}status?id=ex-${++id}`, method: 'GET' },
        { name: `${accumulator.name} POST /accumulate`, url: `${accumulator.url}accumulate`, method: 'POST', body: () => ({ amountUsd: '42.50' }) },
      ],
    });
    cleanups.push(() => load.stop()); // cleanups run in reverse: the load stops before the services close
    stats = load.stats;
    const status = () => {
      const last = propagation.at(-1);
      const ms = last === undefined ? (propagation.length ? 'timed out' : '-') : `${Math.round(last)} ms`;
      return `  ${fmt(stats.ok + stats.failed)} requests  ${fmt(stats.failed)} failed  ${propagation.length} rotations  last propagation ${ms}`;
    };
    const ticker = setInterval(() => line.update(status()), 250);
    cleanups.push(async () => clearInterval(ticker));

    if (options.canary ?? true) {
      const run = runCanary({ store, log: (text) => line.log(text), logger, signal, ...(options.canaryBakeMs === undefined ? {} : { bakeMs: options.canaryBakeMs }) });
      canary = run.catch((error: unknown) => {
        line.log(`  canary     stopped by an error: ${error instanceof Error ? error.message : 'unknown'}`);
        return undefined;
      });
      cleanups.push(() => canary); // before the store closes
    }

    const rotator = changeNowHook(standIn);
    while (propagation.length < rotations && !signal.aborted) {
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) break;
      const result = await rotateChangeNowKey({ runner, rotator, holders: platform.changeNowHolders });
      propagation.push(result.propagationMs);
      if (propagation.length === 1 || result.outcome !== 'finished') {
        const how = result.outcome === 'finished' ? `version ${result.version} served` : `${result.outcome} (${result.errorCode ?? 'no error code'}); the current key stays`;
        line.log(`  hook rotation ${propagation.length}: ${result.stages.join(' -> ')}: ${how}`);
      }
      line.commit(status());
    }
    // Keep the load on past the grace period: a service still on an old key would now fail.
    if (once && !signal.aborted) await sleep(graceMs + 500, undefined, { signal }).catch(() => undefined);
    canarySummary = await canary;
    line.update(status());
    line.done();
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    if (temporary) await rm(dir, { recursive: true, force: true });
  }
  const summary: DemoSummary = {
    requests: stats.ok + stats.failed,
    failed: stats.failed,
    lastFailure: stats.lastFailure,
    rotations: propagation.length,
    propagationMs: propagation,
    standIn: { ...standInStats },
    canary: canarySummary,
    passed: stats.failed === 0 && propagation.every((ms) => ms !== undefined) && (canarySummary?.finished !== true || canarySummary.passed),
  };
  return summary;
}

/** The summary `--once` prints. */
export function formatSummary(summary: DemoSummary): string {
  const reached = summary.propagationMs.filter((ms): ms is number => ms !== undefined).sort((a, b) => a - b);
  const p50 = reached[Math.floor((reached.length - 1) / 2)];
  const max = reached.at(-1);
  const { current, previous, refused } = summary.standIn;
  return [
    '',
    `summary: ${summary.rotations} rotations of CHANGENOW_API_KEY under load`,
    `  requests     ${fmt(summary.requests)}, ${fmt(summary.failed)} failed${summary.lastFailure ? ` (last: ${summary.lastFailure})` : ''}`,
    `  propagation  ${reached.length === 0 ? '-' : `p50 ${Math.round(p50 ?? 0)} ms, max ${Math.round(max ?? 0)} ms`} to every holder, by push (no restart)${reached.length < summary.rotations ? `; ${summary.rotations - reached.length} never arrived` : ''}`,
    `  ChangeNow    ${fmt(current)} calls on the current key, ${fmt(previous)} on the previous one in its grace period, ${fmt(refused)} refused`,
    ...canaryLines(summary.canary),
    `  result       ${summary.passed ? `PASS: zero failed requests across every rotation${summary.canary?.finished ? '; the canary rolled the good key out and halted the bad one within its limit' : ''}` : 'FAIL'}`,
    '',
  ].join('\n');
}

/** The canary's part of the summary: its failed requests are its own count, never folded into the platform's. */
function canaryLines(canary: CanarySummary | undefined): string[] {
  if (canary === undefined) return [];
  if (!canary.finished) return ['  canary       stopped before it finished'];
  const { good, bad } = canary;
  const path = good.progress.map((p) => p.instances).join(' -> ');
  const pctOf = (n: number) => `${Math.round((n / canary.instances) * 100)} %`;
  return [
    `  canary       ${canary.entry} on ${canary.instances} HOSTPAY2 instances, slices ${[...canary.steps, 1].map((f) => `${Math.round(f * 100)} %`).join(' -> ')} over ${canary.bakeMs / 1_000} s`,
    `    good key   version ${good.version}: ${good.completeMs === undefined ? `NOT rolled out (${path || 0} of ${canary.instances})` : `rolled out, ${path} instances, complete in ${(good.completeMs / 1_000).toFixed(1)} s`}, ${fmt(good.failed)} failed`,
    `    bad key    version ${bad.version}: served by ${bad.servedBy}/${canary.instances} (${pctOf(bad.servedBy)}; first slice ${bad.firstSlice}${bad.servedBy > bad.firstSlice ? `, ${bad.servedBy - bad.firstSlice} more took it at their next step before the marker reached them` : ''}), ${bad.failuresCounted} failures counted, ${bad.markedHalted ? 'halted (marker in the store)' : 'NOT halted in the store'}${bad.haltedAtMs === undefined ? '' : ` ${(bad.haltedAtMs / 1_000).toFixed(1)} s after the put`}, ${bad.steppedBack} stepped back, ${bad.onGoodAfterBake}/${canary.instances} on version ${good.version} after the bake`,
    `    requests   ${fmt(canary.requests)} to the canary fleet, ${fmt(canary.failed)} failed: the bad key's price, limit ${canary.maxFailures} failures x ${bad.servedBy} instances = ${bad.limit}${bad.failed <= bad.limit ? ' (within it)' : ' (OVER IT)'}; not in the count above`,
  ];
}
