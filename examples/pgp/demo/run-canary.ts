/**
 * The canary part of `npm start` (docs/adoption.md): on the canary fleet (canary-fleet.ts),
 * a good new CHANGENOW_CANARY_API_KEY rolls out through the slices to every instance, then
 * a bad one (a key the provider issued but has not activated: it answers 401) is halted by
 * the first slice, marked halted in the store, never reaches the others, and the instances
 * that took it step back to the good key.
 *
 * Each instance gets its requests one at a time, so an instance fails at most `maxFailures`
 * requests before it halts: the fleet's failures stay within `maxFailures` x the slice, and
 * the demo counts them (they are the canary's price, shown apart from the platform's zero).
 */
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'keyshift';
import type { LocalStore } from 'keyshift/local-store';
import { startChangeNowServer } from '../stand-ins/changenow-server.ts';
import { CANARY_ENTRY, type CanaryInstance, startCanaryFleet } from './canary-fleet.ts';

export interface CanaryOptions {
  store: LocalStore;
  /** Instances in the fleet. Default 10. */
  instances?: number;
  /** The bake time of a version. Default 6,000 ms (short, for a demo: minutes in production). */
  bakeMs?: number;
  /** Fleet fractions before everyone. Default [0.2, 0.5]. */
  steps?: number[];
  /** Failures one instance counts before it halts the rollout. Default 2. */
  maxFailures?: number;
  /** Time between two requests to one instance. Default 150 ms. */
  requestEveryMs?: number;
  /** Prints one line above the demo's live line. */
  log: (line: string) => void;
  logger: Logger | false;
  signal: AbortSignal;
}

export interface CanarySummary {
  entry: string;
  instances: number;
  steps: number[];
  bakeMs: number;
  maxFailures: number;
  /** Requests to the canary fleet, and the failed ones (all of them while the bad key was out). */
  requests: number;
  failed: number;
  good: {
    version: string;
    /** How many instances served it, each time the count grew, and when (ms after the put). */
    progress: { instances: number; atMs: number }[];
    /** When the last instance served it; undefined if one never did. */
    completeMs: number | undefined;
    failed: number;
  };
  bad: {
    version: string;
    /** Instances whose slot is below the first step (the first slice). */
    firstSlice: number;
    /** Instances that ever served it. */
    servedBy: number;
    /** Failures the instances counted against it (reportFailure). */
    failuresCounted: number;
    /** Failed requests while it was out. */
    failed: number;
    /** maxFailures x the instances that served it. */
    limit: number;
    /** The halt marker is in the store, for this version. */
    markedHalted: boolean;
    /** ms from the put to the first halt, undefined if never. */
    haltedAtMs: number | undefined;
    /** Instances that stepped back to the good version. */
    steppedBack: number;
    /** After the bake: instances serving the good version again (all, if it worked). */
    onGoodAfterBake: number;
  };
  /** False when the demo was stopped before the canary finished. */
  finished: boolean;
  /**
   * Good key everywhere with no failed request; bad key halted and marked in the store,
   * never served by the whole fleet, everyone back on the good key after the bake, failed
   * requests within maxFailures x the instances that served it. (That no more than the first
   * slice served it is shown, not required: on a loaded machine the marker can reach an
   * instance after its next step.)
   */
  passed: boolean;
}

/** An instance's place in a rollout, as keyshift computes it (docs/adoption.md). */
function slot(instanceId: string, entry: string, version: string): number {
  return createHash('sha256').update(`${instanceId}\0${entry}\0${version}`).digest().readUIntBE(0, 6) / 2 ** 48;
}

/**
 * Instance ids like Cloud Run's (a revision, an index). Ten instances and a 20 % first
 * slice leave the slice empty one time in ten, and an empty slice would let the bad key
 * through to the next step untested; the demo picks the first revision whose slices are
 * not empty for the two versions it is about to put, so it shows the same story each run.
 */
function chooseIds(count: number, first: number, goodVersion: string, badVersion: string): string[] {
  for (let revision = 1; ; revision++) {
    const ids = Array.from({ length: count }, (_, i) => `hostpay2-${String(revision).padStart(5, '0')}-${i + 1}`);
    const inFirst = (version: string) => ids.filter((id) => slot(id, CANARY_ENTRY, version) < first).length;
    const bad = inFirst(badVersion);
    if (inFirst(goodVersion) >= 1 && bad >= 1 && bad <= Math.max(1, Math.floor(count * first) + 1)) return ids;
  }
}

/** One request after another to each instance, until stopped. */
function startSerialLoad(instances: readonly CanaryInstance[], everyMs: number) {
  const stats = { ok: 0, failed: 0 };
  let stopped = false;
  let n = 0;
  const loops = instances.map(async (instance) => {
    while (!stopped) {
      const ok = await fetch(`${instance.url}status?id=canary-${++n}`, { signal: AbortSignal.timeout(10_000) }).then(
        async (res) => {
          await res.body?.cancel();
          return res.ok;
        },
        () => false,
      );
      if (ok) stats.ok++;
      else stats.failed++;
      await sleep(everyMs);
    }
  });
  return {
    stats,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

const sec = (ms: number) => `${(ms / 1_000).toFixed(1)} s`;
const pct = (f: number) => `${Math.round(f * 100)} %`;

export async function runCanary(options: CanaryOptions): Promise<CanarySummary> {
  const count = options.instances ?? 10;
  const steps = options.steps ?? [0.2, 0.5];
  const bakeMs = options.bakeMs ?? 6_000;
  const maxFailures = options.maxFailures ?? 2;
  const { store, log, signal } = options;
  const first = steps[0] ?? 1;
  const summary: CanarySummary = {
    entry: CANARY_ENTRY,
    instances: count,
    steps,
    bakeMs,
    maxFailures,
    requests: 0,
    failed: 0,
    good: { version: '', progress: [], completeMs: undefined, failed: 0 },
    bad: { version: '', firstSlice: 0, servedBy: 0, failuresCounted: 0, failed: 0, limit: 0, markedHalted: false, haltedAtMs: undefined, steppedBack: 0, onGoodAfterBake: 0 },
    finished: false,
    passed: false,
  };
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const seedKey = `cn-canary-${randomBytes(12).toString('hex')}`;
    const provider = await startChangeNowServer({ apiKey: seedKey, graceMs: 60_000 });
    cleanups.push(() => provider.close());
    const seeded = await store.put(CANARY_ENTRY, seedKey);
    const goodVersion = String(seeded.version + 1);
    const badVersion = String(seeded.version + 2);
    const ids = chooseIds(count, first, goodVersion, badVersion);
    // The managers log each halt as an error; the demo prints its own line from the
    // rollout-halted event instead (the same facts), and passes every other line on.
    const base = options.logger;
    const logger: Logger | false = base && {
      info: (obj, msg) => base.info(obj, msg),
      warn: (obj, msg) => base.warn(obj, msg),
      error: (obj, msg) => (obj.entry === CANARY_ENTRY && 'by' in obj && 'servedVersion' in obj ? undefined : base.error(obj, msg)),
    };
    const fleet = await startCanaryFleet({ dir: store.dir, instanceIds: ids, policy: { steps, bakeMs, maxFailures }, changeNowUrl: provider.url, logger });
    cleanups.push(() => fleet.close());
    const { instances } = fleet;

    // what each instance serves, as its change events say
    const served = new Map<CanaryInstance, string | undefined>(instances.map((i) => [i, i.ks.status().entries[0]?.version]));
    const everServed = new Map<string, Set<CanaryInstance>>();
    let onChange = (): void => {};
    for (const instance of instances) {
      const off = instance.ks.on('change', (event) => {
        served.set(instance, event.version);
        everServed.set(event.version, (everServed.get(event.version) ?? new Set()).add(instance));
        onChange();
      });
      cleanups.push(async () => off());
    }
    const serving = (version: string) => instances.filter((i) => served.get(i) === version).length;
    const waitFor = (done: () => boolean, ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(finish, ms);
        function finish() {
          clearTimeout(timer);
          signal.removeEventListener('abort', finish);
          onChange = () => {};
          resolve();
        }
        onChange = () => done() && finish();
        signal.addEventListener('abort', finish, { once: true });
        if (done() || signal.aborted) finish();
      });

    log(`  canary     ${CANARY_ENTRY} on ${count} PGP_HOSTPAY2 instances (own ChangeNow account), one request at a time to each`);
    log(`             slices ${[...steps, 1].map(pct).join(' -> ')} over a ${sec(bakeMs)} bake; an instance halts the rollout at ${maxFailures} failures it reports (401)`);
    const load = startSerialLoad(instances, options.requestEveryMs ?? 150);
    cleanups.push(() => load.stop());
    await sleep(300, undefined, { signal }).catch(() => undefined);

    // 1. a good key: issued by the provider, works at once
    const goodKey = provider.issueKey();
    const goodAt = performance.now();
    const goodPut = await store.put(CANARY_ENTRY, goodKey);
    summary.good.version = String(goodPut.version);
    const progress = summary.good.progress;
    // one line per step: the instances of one step arrive within a few ms of each other
    let pending: ReturnType<typeof setTimeout> | undefined;
    const report = () => {
      pending = undefined;
      const n = serving(summary.good.version);
      if (n <= (progress.at(-1)?.instances ?? 0)) return;
      const atMs = performance.now() - goodAt;
      progress.push({ instances: n, atMs });
      log(`  canary     good key, version ${summary.good.version}: served by ${n}/${count} instances at ${sec(atMs)}`);
    };
    const track = () => {
      const n = serving(summary.good.version);
      if (n === count) report();
      else pending ??= setTimeout(report, 150);
      return n === count;
    };
    cleanups.push(async () => clearTimeout(pending));
    await waitFor(track, bakeMs + 5_000);
    if (serving(summary.good.version) === count) summary.good.completeMs = progress.at(-1)?.atMs;
    summary.good.failed = load.stats.failed;
    if (signal.aborted) return summary;
    provider.revokeKey(seedKey); // the fleet is on the good key: the old one can go
    log(
      summary.good.completeMs === undefined
        ? `  canary     good key: ${serving(summary.good.version)}/${count} instances after ${sec(bakeMs + 5_000)}: the rollout did not complete`
        : `  canary     good key: rolled out to ${count}/${count} in ${sec(summary.good.completeMs)}, ${summary.good.failed} failed requests`,
    );

    // 2. a bad key: issued but not active at the provider for an hour, so every call with it is a 401
    const badKey = provider.issueKey({ activeAfterMs: 3_600_000 });
    const failedBefore = load.stats.failed;
    let steppedBack = 0;
    let heldByMarker = 0;
    let badAt = performance.now();
    for (const instance of instances) {
      const off = instance.ks.on('rollout-halted', (event) => {
        if (event.name !== CANARY_ENTRY) return;
        summary.bad.haltedAtMs ??= performance.now() - badAt;
        if (event.steppedBack) steppedBack++;
        if (event.by === 'marker') heldByMarker++;
        else log(`  canary     bad key, version ${event.version}: ${instance.id} halted it at ${sec(performance.now() - badAt)} (${event.reason})${event.steppedBack ? `, back on version ${event.servedVersion}` : ''}`);
      });
      cleanups.push(async () => off());
    }
    badAt = performance.now();
    const badPut = await store.put(CANARY_ENTRY, badKey);
    const bad = String(badPut.version);
    summary.bad.version = bad;
    summary.bad.firstSlice = instances.filter((i) => slot(i.id, CANARY_ENTRY, bad) < first).length;
    log(`  canary     bad key, version ${bad} (issued, not yet active at the provider): first slice ${summary.bad.firstSlice}/${count}`);
    // past the whole bake: without the halt, every instance would serve it by now
    await sleep(bakeMs + 1_000, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return summary;
    const statuses = instances.map((i) => i.ks.status().entries[0]?.rollout);
    summary.bad.servedBy = everServed.get(bad)?.size ?? 0;
    summary.bad.failuresCounted = statuses.reduce((sum, r) => sum + (r?.version === bad ? r.failures : 0), 0);
    summary.bad.failed = load.stats.failed - failedBefore;
    summary.bad.limit = maxFailures * summary.bad.servedBy;
    summary.bad.steppedBack = steppedBack;
    summary.bad.onGoodAfterBake = serving(summary.good.version);
    const marker = (await store.getSecret(CANARY_ENTRY)).annotations['keyshift-rollout'];
    const parsed = marker === undefined ? undefined : (JSON.parse(marker) as { version?: string; state?: string });
    summary.bad.markedHalted = parsed?.version === bad && parsed.state === 'halted';
    log(`  canary     bad key: ${heldByMarker} other instances read the halt marker from the store and did not take it`);
    log(
      `  canary     bad key: served by ${summary.bad.servedBy}/${count} (first slice ${summary.bad.firstSlice}), ${summary.bad.failuresCounted} failures counted, ` +
        `${summary.bad.markedHalted ? 'halted in the store' : 'NOT marked halted in the store'}; after the bake ${summary.bad.onGoodAfterBake}/${count} serve version ${summary.good.version}`,
    );
    await load.stop();
    summary.requests = load.stats.ok + load.stats.failed;
    summary.failed = load.stats.failed;
    summary.finished = true;
    summary.passed =
      summary.good.completeMs !== undefined &&
      summary.good.failed === 0 &&
      summary.bad.markedHalted &&
      summary.bad.servedBy >= 1 &&
      summary.bad.servedBy < count &&
      summary.bad.onGoodAfterBake === count &&
      summary.bad.failed <= summary.bad.limit &&
      summary.failed === summary.good.failed + summary.bad.failed;
    return summary;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}
