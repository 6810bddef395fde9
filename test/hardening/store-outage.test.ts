/**
 * Plan section A, tests 1-3: an unavailable store under load, a hung store, and
 * DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED with the exact backoff schedule. Each runs
 * against the in-memory store and the real clients over loopback (the Secret Manager
 * emulator and the AWS endpoint), on a fake clock that moves one timer at a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAlertRules } from '../../src/admin/alert-rules.ts';
import { createAdminMetrics } from '../../src/admin/metrics.ts';
import { createKeyshift, defineSecrets, ErrorCodes, reveal, t } from '../../src/index.ts';
import { firstRefreshDelay } from '../../src/core/schedule.ts';
import type { Source } from '../../src/types.ts';
import { runTo, StepClock, settle } from './_clock.ts';
import { load, seeded } from './_load.ts';
import { assertBackToBaseline, activeResources, failOnUnhandled } from './_strict.ts';
import { awsStore, type FaultyStore, gcpStore, memoryStore, tracked } from './_stores.ts';

failOnUnhandled();

/** Five related dynamic entries of the reference platform, all with one TTL. */
const declare = (ttlMs: number) =>
  defineSecrets({
    API_KEY: { type: t.string(), category: 'api-key', ttlMs },
    SERVICE_URL: { type: t.url(), category: 'service-url', ttlMs },
    QUEUE: { type: t.string(), category: 'queue-name', ttlMs },
    FEE: { type: t.decimal(), category: 'app-config', ttlMs },
    FLAG: { type: t.bool(), category: 'app-config', ttlMs },
  });
const declaration = declare(5_000);
type Name = keyof typeof declaration;
const NAMES = Object.keys(declaration) as Name[];
const OLD: Record<Name, string> = { API_KEY: 'fake-key-1', SERVICE_URL: 'https://one.example/', QUEUE: 'queue-one', FEE: '1.5', FLAG: 'true' };
const NEW: Record<Name, string> = { API_KEY: 'fake-key-2', SERVICE_URL: 'https://two.example/', QUEUE: 'queue-two', FEE: '2.25', FLAG: 'false' };
const shown = (v: unknown): string => String(reveal(v as string));

/** The worst backoff step (30 s cap, +25 %) plus one TTL (+10 %). */
const RECOVERY_BOUND_MS = 30_000 * 1.25 + 5_000 * 1.1;

/** A poll-only view of a source: no watch, so recovery depends on the retry schedule alone. */
function pollOnly(source: Source): Source {
  return { kind: source.kind, get: source.get.bind(source), ...(source.close ? { close: source.close.bind(source) } : {}) };
}

interface OutageFigures {
  served: number;
  failed: number;
  attemptsPerEntry: Record<string, number>;
  failingAlerts: Record<string, number>;
  recoveryMs: number;
}

/** Plan 1 on one store: 2,000 req/s x 5 reads, 60 s of UNAVAILABLE, then recovery with new values. */
async function unavailableUnderLoad(store: FaultyStore, random: () => number): Promise<OutageFigures> {
  for (const name of NAMES) await store.set(name, OLD[name]);
  const clock = new StepClock();
  const source = tracked(pollOnly(store.source()), () => clock.now());
  const ks = createKeyshift(declaration, { source, clock, random, logger: false, name: `plan1-${store.kind}` });
  await ks.ready();
  const alerts = createAlertRules([ks], { logger: false }, clock);
  const failingAlerts: Record<string, number> = {};
  alerts.on((e) => {
    if (e.state === 'firing' && e.alert.rule === 'failing') failingAlerts[e.alert.entry] = (failingAlerts[e.alert.entry] ?? 0) + 1;
  });
  // the exact object served: a request gets the last-known-good value itself, not a copy
  const expected = new Map<string, unknown>(NAMES.map((n) => [n, ks.get(n)]));
  const changedAt = new Map<string, number>();
  ks.on('change', (e) => {
    changedAt.set(e.name, clock.now());
    expected.set(e.name, ks.get(e.name as Name));
  });
  let served = 0;
  let failed = 0;
  const onStep = (from: number, to: number): void => {
    const requests = Math.floor(to * 2) - Math.floor(from * 2); // 2,000 req/s = 2 per ms
    for (let i = 0; i < requests; i++) {
      try {
        let ok = true;
        for (const name of NAMES) ok = ks.get(name) === expected.get(name) && ok;
        if (ok) served++;
        else failed++;
      } catch {
        failed++;
      }
    }
  };
  const busy = () => source.inFlight > 0;
  const T0 = 20_000;
  const T1 = T0 + 60_000;
  await runTo(clock, T0, { busy, onStep });
  const before = new Map(NAMES.map((n) => [n, source.starts.get(n)?.length ?? 0]));
  store.fail('unavailable');
  await runTo(clock, T1 - 1, { busy, onStep });
  const attemptsPerEntry = Object.fromEntries(NAMES.map((n) => [n, (source.starts.get(n)?.length ?? 0) - (before.get(n) ?? 0)]));
  const status = ks.status();
  for (const entry of status.entries) {
    assert.equal(entry.stale, true, `${entry.name} is marked stale in status during the outage`);
    assert.equal(entry.lastError?.code, ErrorCodes.SOURCE_UNAVAILABLE);
  }
  const metrics = await createAdminMetrics([ks], () => alerts.firing());
  const text = (await metrics?.render()) ?? '';
  metrics?.close();
  for (const name of NAMES) assert.match(text, new RegExp(`keyshift_stale\\{[^}]*entry="${name}"[^}]*\\} 1`), `${name} is stale in /metrics`);
  store.clear();
  for (const name of NAMES) await store.set(name, NEW[name]);
  await runTo(clock, T1 + 60_000, { busy, onStep });
  for (const name of NAMES) assert.equal(shown(ks.get(name)), shown(NEW[name]), `${name} serves the new value`);
  const recoveryMs = Math.max(...NAMES.map((n) => (changedAt.get(n) ?? Number.POSITIVE_INFINITY) - T1));
  await alerts.close();
  await ks.close();
  return { served, failed, attemptsPerEntry, failingAlerts, recoveryMs };
}

function checkOutage(figures: OutageFigures): void {
  assert.equal(figures.failed, 0, 'no request failed');
  assert.equal(figures.served, 140_000 * 2, 'every request of the 140 s was served');
  for (const name of NAMES) {
    const attempts = figures.attemptsPerEntry[name] ?? 0;
    assert.ok(attempts >= 5 && attempts <= 8, `${name}: ${attempts} store attempts during the 60 s outage (plan: <= 8)`);
    assert.equal(figures.failingAlerts[name], 1, `${name}: exactly one "3 failures in 5 min" alert`);
  }
  assert.ok(figures.recoveryMs <= RECOVERY_BOUND_MS, `new values served ${figures.recoveryMs} ms after recovery (bound ${RECOVERY_BOUND_MS} ms)`);
}

describe('Plan 1: UNAVAILABLE for 60 s under load', () => {
  it('memory store, jitter at its extremes and at random: 0 failed requests, <= 8 attempts per entry, 1 alert each, stale shown, recovery bounded', async (t) => {
    for (const random of [() => 0, () => 0.999_999, seeded(1), seeded(2)]) {
      const store = await memoryStore();
      const figures = await unavailableUnderLoad(store, random);
      checkOutage(figures);
      t.diagnostic(`memory: served ${figures.served}, failed ${figures.failed}, attempts ${JSON.stringify(figures.attemptsPerEntry)}, recovery ${Math.round(figures.recoveryMs)} ms`);
    }
  });

  for (const make of [gcpStore, awsStore]) {
    it(`${make.name === 'gcpStore' ? 'Secret Manager emulator, real Google client' : 'AWS endpoint, real AWS SDK'}: the same figures`, async (t) => {
      const store = await make();
      try {
        const figures = await unavailableUnderLoad(store, seeded(7));
        checkOutage(figures);
        t.diagnostic(`${store.kind}: served ${figures.served}, failed ${figures.failed}, store attempts during outage ${JSON.stringify(figures.attemptsPerEntry)}, recovery ${Math.round(figures.recoveryMs)} ms`);
      } finally {
        await store.close();
      }
    });
  }

  it('real time, Secret Manager emulator: 2,000 req/s x 5 reads for 2 s of UNAVAILABLE fail no request', async (t) => {
    const baseline = activeResources();
    const store = await gcpStore();
    try {
      for (const name of NAMES) await store.set(name, OLD[name]);
      const ks = createKeyshift(declare(200), { source: store.source(), logger: false });
      await ks.ready();
      const callsBefore = store.calls();
      store.fail('unavailable');
      const result = await load(2_000, 2_000, () => NAMES.every((n) => shown(ks.get(n)) === (n === 'FEE' ? '1.5' : OLD[n])));
      const outageCalls = store.calls() - callsBefore;
      store.clear();
      await ks.close();
      assert.equal(result.failed, 0);
      assert.ok(result.served >= 3_900, `served ${result.served}`);
      // 5 entries; TTL 200 ms then 1 s doubling: about 2-3 attempts each in 2 s, never a hot loop
      assert.ok(outageCalls <= 5 * 4, `${outageCalls} store calls during the 2 s outage`);
      t.diagnostic(`gcp real time: served ${result.served}, failed ${result.failed}, store calls during outage ${outageCalls}, read p99 ${result.p99Us.toFixed(1)} us`);
    } finally {
      await store.close();
    }
    await assertBackToBaseline(baseline);
  });
});

describe('Plan 2: hung store (no response at all)', () => {
  for (const make of [memoryStore, gcpStore, awsStore]) {
    it(`${make.name}: each attempt is abandoned at the 3 s deadline, reads never wait, <= 1 call in flight per entry, none left after close()`, async (t) => {
      const baseline = activeResources();
      const store = await make();
      try {
        for (const name of NAMES) await store.set(name, OLD[name]);
        const clock = new StepClock();
        const source = tracked(pollOnly(store.source()), () => clock.now());
        const ks = createKeyshift(declaration, { source, clock, random: seeded(11), logger: false });
        await ks.ready();
        const durations: number[] = [];
        const codes = new Set<string>();
        ks.on('fetch', (e) => {
          if (e.outcome === 'error') {
            durations.push(e.durationMs);
            codes.add(e.code ?? '');
          }
        });
        store.fail('hang');
        let reads = 0;
        let bad = 0;
        // the hung calls never finish on their own: do not wait for them, fire the deadline timers
        await runTo(clock, 60_000, {
          busy: () => false,
          onStep: (from, to) => {
            for (let i = 0; i < Math.min(50, to - from); i++) {
              for (const name of NAMES) {
                reads++;
                if (shown(ks.get(name)) !== shown(name === 'FEE' ? '1.5' : OLD[name])) bad++;
              }
            }
          },
        });
        assert.ok(durations.length >= 5 * 5, `${durations.length} abandoned attempts`);
        assert.deepEqual(new Set(durations), new Set([3_000]), 'every attempt ends at exactly the 3 s per-call deadline');
        assert.deepEqual(codes, new Set([ErrorCodes.SOURCE_TIMEOUT]));
        assert.equal(source.peak, 1, 'never more than one call in flight per entry');
        assert.equal(bad, 0);
        const stillHung = source.inFlight;
        await ks.close();
        await settle(() => source.inFlight > 0, 5_000);
        assert.equal(source.inFlight, 0, 'close() leaves no call pending');
        assert.equal(clock.pending, 0, 'close() leaves no timer armed');
        t.diagnostic(`${store.kind}: ${durations.length} attempts abandoned at 3,000 ms; ${reads} reads served during the hang, 0 wrong; ${stillHung} call(s) hung at close(), 0 after`);
      } finally {
        store.clear();
        await store.close();
      }
      await assertBackToBaseline(baseline);
    });
  }
});

/** The attempt times (relative to the first failure) that the default backoff gives for a constant jitter draw `r`. */
function schedule(r: number, windowMs: number, floorMs = 0): number[] {
  const times = [0];
  for (let k = 1; ; k++) {
    const delay = Math.max(floorMs, Math.min(1_000 * 2 ** (k - 1), 30_000) * (1 + 0.25 * (2 * r - 1)));
    const next = (times.at(-1) ?? 0) + delay;
    if (next >= windowMs) return times;
    times.push(next);
  }
}

describe('Plan 3: DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED', () => {
  const one = defineSecrets({ API_KEY: { type: t.string(), category: 'api-key', ttlMs: 10_000 } });

  /** Attempt times (ms after the first failing one) for 30 s of `fault` on `store`, with a constant jitter draw. */
  async function attempts(store: FaultyStore, fault: 'deadline' | 'throttled', r: number, options: { initialMs?: number; retryAfterSeconds?: number } = {}) {
    await store.set('API_KEY', 'fake-key-1');
    const clock = new StepClock();
    const source = tracked(pollOnly(store.source()), () => clock.now());
    const backoff = options.initialMs === undefined ? {} : { backoff: { initialMs: options.initialMs } };
    const ks = createKeyshift(one, { source, clock, random: () => r, logger: false, ...backoff });
    await ks.ready();
    const codes = new Set<string>();
    ks.on('fetch', (e) => e.code && codes.add(e.code));
    store.fail(fault, options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds });
    const first = firstRefreshDelay(ks.entries[0]?.ttlMs ?? 0, 0.1, () => r); // the first refresh, spread over the TTL
    await runTo(clock, first + 30_000 - 1, { busy: () => source.inFlight > 0 });
    store.clear();
    const starts = (source.starts.get('API_KEY') ?? []).slice(1).map((at) => at - first);
    assert.equal(ks.get('API_KEY').reveal(), 'fake-key-1', 'last-known-good throughout');
    await ks.close();
    return { starts, codes };
  }

  const jitters = [0, 0.5, 0.999_999];
  for (const make of [memoryStore, gcpStore, awsStore]) {
    it(`${make.name}: both codes are retried by keyshift on the exact backoff schedule (jitter at -25 %, 0, +25 %); throttling never below the 1 s floor`, async (t) => {
      const store = await make();
      try {
        for (const r of jitters) {
          // AWS has no DEADLINE_EXCEEDED answer: its deadline is keyshift's own (plan 2)
          if (store.kind !== 'aws') {
            const deadline = await attempts(store, 'deadline', r);
            assert.deepEqual(deadline.codes, new Set([ErrorCodes.SOURCE_TIMEOUT]));
            assert.deepEqual(deadline.starts.map(Math.round), schedule(r, 30_000).map(Math.round), `DEADLINE_EXCEEDED, jitter draw ${r}`);
          }
          const throttled = await attempts(store, 'throttled', r);
          assert.deepEqual(throttled.codes, new Set([ErrorCodes.SOURCE_THROTTLED]));
          assert.deepEqual(throttled.starts.map(Math.round), schedule(r, 30_000, 1_000).map(Math.round), `RESOURCE_EXHAUSTED, jitter draw ${r}`);
        }
        // even with a 100 ms backoff configured, throttling waits at least 1 s between attempts
        const eager = await attempts(store, 'throttled', 0, { initialMs: 100 });
        const gaps = eager.starts.slice(1).map((at, i) => at - (eager.starts[i] ?? 0));
        assert.ok(gaps.every((gap) => gap >= 1_000), `gaps ${gaps.join(', ')}`);
        t.diagnostic(`${store.kind}: ${store.kind === 'aws' ? 'ThrottlingException' : 'DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED'} attempts match the schedule at 3 jitter draws; throttled gaps with initialMs 100: ${gaps.map(Math.round).join(', ')} ms`);
      } finally {
        await store.close();
      }
    });
  }

  it('AWS ThrottlingException with a Retry-After hint: the hint is honoured when it is longer than the backoff step', async () => {
    const store = await awsStore();
    try {
      const { starts, codes } = await attempts(store, 'throttled', 0.5, { retryAfterSeconds: 7 });
      assert.deepEqual(codes, new Set([ErrorCodes.SOURCE_THROTTLED]));
      // steps 1, 2, 4 s give way to the 7 s hint; 8 and 16 s are longer than it
      assert.deepEqual(starts.map(Math.round), [0, 7_000, 14_000, 21_000, 29_000]);
    } finally {
      await store.close();
    }
  });
});

describe('Plan 1-3: the per-call deadline is keyshift\'s, not the client\'s', () => {
  let store: Awaited<ReturnType<typeof gcpStore>>;
  before(async () => {
    store = await gcpStore();
  });
  after(() => store.close());

  it('a hung Secret Manager call fails ready() within the startup timeout, not the client default of 600 s', async () => {
    await store.set('API_KEY', 'fake-key-1');
    store.fail('hang');
    const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } }), {
      source: store.source(),
      logger: false,
      fetchTimeoutMs: 300,
      startupTimeoutMs: 1_500,
    });
    const started = performance.now();
    // STARTUP_TIMEOUT when a retry is in flight at the bound; the call's own SOURCE_TIMEOUT when the next retry
    // could not start before it (a jitter draw over 1.2 s, or an event loop slowed by loading the client)
    const codes: string[] = [ErrorCodes.STARTUP_TIMEOUT, ErrorCodes.SOURCE_TIMEOUT];
    await assert.rejects(ks.ready(), (e: { code: string; message: string }) => codes.includes(e.code) && /API_KEY/.test(e.message));
    const elapsedMs = performance.now() - started;
    store.clear();
    await ks.close();
    assert.ok(elapsedMs < 60_000, `ready() gave up after ${Math.round(elapsedMs)} ms`);
  });
});
