/**
 * Plan section A, tests 4, 5, 6, 8 and 9: NOT_FOUND and PERMISSION_DENIED at start and
 * at refresh, a disabled then destroyed `latest`, maxStale with serve-stale and
 * fail-closed, and start-up with the store down (the fallback chain, crash-loop hold).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { type AlertEvent, createAlertRules } from '../../src/admin/alert-rules.ts';
import { createKeyshift, defineSecrets, ErrorCodes, KeyshiftError, StaleSecretError, t } from '../../src/index.ts';
import { env } from '../../src/sources/env.ts';
import { fallbackChain } from '../../src/sources/fallback-chain.ts';
import { fileSource } from '../../src/sources/file.ts';
import type { Source } from '../../src/types.ts';
import { everythingOf } from './_canary.ts';
import { runTo, StepClock } from './_clock.ts';
import { seeded } from './_load.ts';
import { failOnUnhandled } from './_strict.ts';
import { awsStore, type FaultyStore, gcpStore, localStoreFixture, memoryStore, tracked } from './_stores.ts';

failOnUnhandled();

const one = defineSecrets({ API_KEY: { type: t.string(), category: 'api-key', ttlMs: 30_000 } });
const FAKE = 'fake-hardening-value-0001';

/** Where each store says it looked, as an operator would need it in the message. */
const LOCATION: Record<FaultyStore['kind'], (name: string) => RegExp> = {
  memory: (name) => new RegExp(name),
  gcp: (name) => new RegExp(`projects/hardening/secrets/${name}/versions/latest`),
  aws: (name) => new RegExp(`${name}.*us-east-1|us-east-1.*${name}`),
};

function alertsOf(rules: ReturnType<typeof createAlertRules>, rule: string): AlertEvent[] {
  const seen: AlertEvent[] = [];
  rules.on((e) => e.alert.rule === rule && seen.push(e));
  return seen;
}

/** At refresh, a failing store keeps the last-known-good value, fires one alert, and retries on the backoff schedule. */
async function atRefresh(store: FaultyStore, breakIt: () => Promise<void>, outcome: string) {
  await store.set('API_KEY', FAKE);
  const clock = new StepClock();
  const source = tracked(store.source(), () => clock.now());
  const ks = createKeyshift(one, { source, clock, random: seeded(3), logger: false });
  await ks.ready();
  const served = ks.get('API_KEY');
  const rules = createAlertRules([ks], { logger: false }, clock);
  const failing = alertsOf(rules, 'failing');
  const outcomes = new Set<string>();
  ks.on('fetch', (e) => outcomes.add(e.outcome));
  await breakIt();
  const before = source.starts.get('API_KEY')?.length ?? 0;
  await runTo(clock, 30_000 * 1.1 + 60_000, { busy: () => source.inFlight > 0 });
  const starts = (source.starts.get('API_KEY') ?? []).slice(before);
  assert.equal(ks.get('API_KEY'), served, 'the last-known-good value stays');
  assert.deepEqual(outcomes, new Set([outcome]));
  assert.equal(failing.length, 1, 'exactly one alert');
  assert.match(failing[0]?.alert.message ?? '', /serving last-known-good version/);
  const gaps = starts.slice(1).map((at, i) => at - (starts[i] ?? 0));
  assert.ok(starts.length >= 4 && starts.length <= 8, `${starts.length} attempts in 60 s: backoff, no hot loop`);
  assert.ok(gaps.every((gap, i) => gap >= 750 && (i === 0 || gap >= (gaps[i - 1] ?? 0) * 2 * 0.6)), `gaps grow: ${gaps.map(Math.round).join(', ')}`);
  await rules.close();
  await ks.close();
  return starts.length;
}

describe('Plan 4: NOT_FOUND at ready() vs at refresh', () => {
  for (const make of [memoryStore, gcpStore, awsStore]) {
    it(`${make.name}: ready() rejects before the first deadline naming the entry and what to check; at refresh the value stays, one alert, backoff`, async (tc) => {
      const store = await make();
      try {
        const clock = new StepClock();
        const ks = createKeyshift(defineSecrets({ MISSING_KEY: { type: t.string(), category: 'api-key' } }), { source: store.source(), clock, logger: false });
        await assert.rejects(ks.ready(), (e: KeyshiftError) => {
          assert.equal(e.code, ErrorCodes.SOURCE_NOT_FOUND);
          assert.match(e.message, /entry MISSING_KEY/);
          assert.match(e.message, /check that it exists/);
          return true;
        });
        assert.equal(clock.now(), 0, 'no deadline (or backoff) was waited for: not-found is not retried at start');
        await ks.close();
        const attempts = await atRefresh(store, () => store.remove('API_KEY'), 'not-found');
        tc.diagnostic(`${store.kind}: not-found at refresh, ${attempts} attempts in 60 s, value kept`);
      } finally {
        await store.close();
      }
    });
  }

  it('file, env and local store sources: the ready() error says where the entry was looked for', async () => {
    const local = await localStoreFixture();
    const decl = defineSecrets({ MISSING_KEY: { type: t.string(), category: 'api-key' } });
    const where = [
      [fileSource({ dir: local.dir, rescanMs: 0 }), new RegExp(`${local.dir}/MISSING_KEY`)],
      [env({ env: {}, prefix: 'PGP_' }), /environment variable PGP_MISSING_KEY/],
      [local.source(), new RegExp(`secret MISSING_KEY of the local store at ${local.dir}`)],
      [fallbackChain([local.source(), env({ env: {} })]), /MISSING_KEY of the local store.*then environment variable MISSING_KEY/],
    ] as const;
    try {
      for (const [source, pattern] of where) {
        const ks = createKeyshift(decl, { source, logger: false });
        await assert.rejects(ks.ready(), (e: KeyshiftError) => e.code === ErrorCodes.SOURCE_NOT_FOUND && pattern.test(e.message));
        await ks.close();
      }
    } finally {
      await local.close();
    }
  });

  for (const make of [gcpStore, awsStore]) {
    it(`${make.name}: the ready() error names the resource path and project or region`, async () => {
      const store = await make();
      try {
        const ks = createKeyshift(defineSecrets({ MISSING_KEY: { type: t.string(), category: 'api-key' } }), { source: store.source(), logger: false });
        await assert.rejects(ks.ready(), (e: KeyshiftError) => LOCATION[store.kind]('MISSING_KEY').test(e.message));
        await ks.close();
      } finally {
        await store.close();
      }
    });
  }
});

describe('Plan 5: PERMISSION_DENIED "(or it may not exist)"', () => {
  const hints: Record<FaultyStore['kind'], RegExp[]> = {
    memory: [],
    gcp: [/secretmanager\.versions\.access/, /exist/, /projects\/hardening\/secrets\/API_KEY/],
    aws: [/secretsmanager:GetSecretValue/, /API_KEY/],
  };
  for (const make of [memoryStore, gcpStore, awsStore]) {
    it(`${make.name}: ready() rejects at once naming IAM and existence, without credential material; at refresh as plan 4`, async (tc) => {
      const store = await make();
      try {
        await store.set('API_KEY', FAKE);
        store.fail('denied');
        const clock = new StepClock();
        const ks = createKeyshift(one, { source: store.source(), clock, logger: false });
        await assert.rejects(ks.ready(), (e: KeyshiftError) => {
          assert.equal(e.code, ErrorCodes.SOURCE_DENIED);
          for (const hint of hints[store.kind]) assert.match(e.message, hint);
          const everything = everythingOf(e);
          for (const secret of [FAKE, 'hardening-fake-secret-key', 'AKIDHARDENINGFAKE']) assert.ok(!everything.includes(secret), 'no credential or value in the error');
          return true;
        });
        assert.equal(clock.now(), 0);
        await ks.close();
        store.clear();
        const attempts = await atRefresh(store, async () => store.fail('denied'), 'error');
        store.clear();
        tc.diagnostic(`${store.kind}: denied at refresh, ${attempts} attempts in 60 s, value kept`);
      } finally {
        await store.close();
      }
    });
  }
});

describe('Plan 6: FAILED_PRECONDITION for a DISABLED, then DESTROYED, latest', () => {
  /** Runs the plan on a store of numbered versions: `versions` adds, disables, enables and destroys them. */
  async function disabledLatest(source: Source, versions: { add(v: string): Promise<void>; disable(n: number): Promise<void>; enable(n: number): Promise<void>; destroy(n: number): Promise<void> }) {
    await versions.add('fake-v1');
    await versions.add('fake-v2');
    const clock = new StepClock();
    const counted = tracked(source, () => clock.now());
    const ks = createKeyshift(one, { source: counted, clock, random: () => 0.5, logger: false });
    await ks.ready();
    assert.equal(ks.get('API_KEY').reveal(), 'fake-v2');
    const rules = createAlertRules([ks], { logger: false }, clock);
    const events: AlertEvent[] = [];
    rules.on((e) => events.push(e));
    const errors: KeyshiftError[] = [];
    ks.on('error', (e) => errors.push(e.error));
    const busy = () => counted.inFlight > 0;
    const fetchesUntilResolved = async (): Promise<number> => {
      const start = counted.starts.get('API_KEY')?.length ?? 0;
      while (rules.firing().length > 0) await runTo(clock, (clock.nextAt ?? clock.now()) + 0, { busy });
      return (counted.starts.get('API_KEY')?.length ?? 0) - start;
    };

    await versions.disable(2);
    await runTo(clock, 80_000, { busy });
    assert.equal(ks.get('API_KEY').reveal(), 'fake-v2', 'v2 stays in service: no silent fallback to v1');
    assert.ok(errors.length >= 3 && errors.every((e) => e.code === ErrorCodes.VERSION_DISABLED));
    assert.match(errors[0]?.message ?? '', /version 2 is disabled/);
    const firing = rules.firing();
    assert.equal(firing.length, 1);
    assert.match(firing[0]?.message ?? '', /serving last-known-good version 2/);
    await versions.enable(2);
    assert.ok((await fetchesUntilResolved()) <= 1, 're-enabling v2 clears the alert within one refresh (or at once by push)');

    errors.length = 0;
    await versions.disable(2);
    await versions.destroy(2);
    await runTo(clock, clock.now() + 80_000, { busy });
    assert.equal(ks.get('API_KEY').reveal(), 'fake-v2', 'the destroyed version is still served as last-known-good');
    assert.match(errors.at(-1)?.message ?? '', /version 2 is destroyed/);
    assert.equal(rules.firing().length, 1);
    await versions.add('fake-v3');
    assert.ok((await fetchesUntilResolved()) <= 1, 'adding v3 clears the alert within one refresh (or at once by push)');
    assert.equal(ks.get('API_KEY').reveal(), 'fake-v3');
    assert.deepEqual(
      events.map((e) => `${e.state}:${e.alert.rule}`),
      ['firing:failing', 'resolved:failing', 'firing:failing', 'resolved:failing'],
    );
    await rules.close();
    await ks.close();
  }

  it('Secret Manager emulator, real Google client', async () => {
    const store = await gcpStore();
    try {
      await disabledLatest(store.source(), {
        add: (v) => store.set('API_KEY', v),
        disable: async (n) => void (await store.emulator.store.disableVersion('API_KEY', n)),
        enable: async (n) => void (await store.emulator.store.enableVersion('API_KEY', n)),
        destroy: async (n) => void (await store.emulator.store.destroyVersion('API_KEY', n)),
      });
    } finally {
      await store.close();
    }
  });

  it('local store', async () => {
    const local = await localStoreFixture();
    try {
      await disabledLatest(local.source(), {
        add: async (v) => void (await local.store.put('API_KEY', v)),
        disable: async (n) => void (await local.store.disableVersion('API_KEY', n)),
        enable: async (n) => void (await local.store.enableVersion('API_KEY', n)),
        destroy: async (n) => void (await local.store.destroyVersion('API_KEY', n)),
      });
    } finally {
      await local.close();
    }
  });
});

describe('Plan 8: maxStale exceeded', () => {
  it('serve-stale keeps serving with a critical alert; fail-closed throws a value-free StaleSecretError at the bound to the millisecond; both recover', async () => {
    const store = await memoryStore();
    await store.set('SERVED', FAKE);
    await store.set('GUARDED', FAKE);
    const clock = new StepClock();
    const ks = createKeyshift(
      defineSecrets({
        SERVED: { type: t.string(), category: 'api-key', ttlMs: 30_000, maxStaleMs: 120_000 },
        GUARDED: { type: t.string(), category: 'api-key', ttlMs: 30_000, maxStaleMs: 120_000, onStale: 'fail-closed' },
      }),
      { source: store.source(), clock, random: () => 0.5, logger: false },
    );
    await ks.ready();
    const rules = createAlertRules([ks], { logger: false }, clock);
    const stale = alertsOf(rules, 'stale-exceeded');
    store.fail('unavailable');
    await runTo(clock, 119_999);
    assert.equal(ks.get('GUARDED').reveal(), FAKE, 'served up to the bound');
    assert.equal(stale.length, 0);
    await runTo(clock, 120_000);
    assert.equal(ks.get('SERVED').reveal(), FAKE, 'serve-stale keeps serving past the bound');
    assert.throws(
      () => ks.get('GUARDED'),
      (e: unknown) => e instanceof StaleSecretError && e.code === ErrorCodes.STALE && !everythingOf(e).includes(FAKE) && !inspect(e).includes(FAKE),
    );
    assert.deepEqual(stale.map((e) => `${e.alert.entry}:${e.alert.severity}`).sort(), ['GUARDED:critical', 'SERVED:critical']);
    const guarded = ks.status().entries.find((e) => e.name === 'GUARDED');
    assert.equal(guarded?.failClosed, true);
    assert.equal(guarded?.staleExceeded, true);
    await runTo(clock, 180_000); // a 3-minute outage
    assert.throws(() => ks.get('GUARDED'), StaleSecretError);
    store.clear();
    await runTo(clock, 240_000);
    assert.equal(ks.get('GUARDED').reveal(), FAKE, 'fail-closed reads work again once the store answers');
    assert.equal(rules.firing().length, 0, 'the alerts resolve');
    await rules.close();
    await ks.close();
  });
});

describe('Plan 9: startup with the store down, and the fallback chain', () => {
  const five = defineSecrets({
    A_KEY: { type: t.string(), category: 'api-key' },
    B_URL: { type: t.url(), category: 'service-url' },
    C_QUEUE: { type: t.string(), category: 'queue-name' },
    D_FEE: { type: t.decimal(), category: 'app-config' },
    E_FLAG: { type: t.bool(), category: 'app-config' },
  });
  const values = { A_KEY: FAKE, B_URL: 'https://store.example/', C_QUEUE: 'q-store', D_FEE: '1.5', E_FLAG: 'true' };

  for (const make of [memoryStore, gcpStore]) {
    it(`${make.name}: ready() fails within the startup timeout, listing exactly the entries not loaded`, async () => {
      const store = await make();
      try {
        for (const [name, value] of Object.entries(values)) await store.set(name, value);
        store.fail('unavailable');
        const clock = new StepClock();
        const inner = store.source();
        // B_URL and D_FEE are served; the other three hit the outage
        const source: Source = {
          kind: inner.kind,
          get: (name, options) => (name === 'B_URL' || name === 'D_FEE' ? Promise.resolve({ value: values[name], version: '1' }) : inner.get(name, options)),
        };
        const ks = createKeyshift(five, { source, clock, logger: false, startupTimeoutMs: 10_000 });
        let error: unknown;
        const ready = ks.ready().catch((e: unknown) => {
          error = e;
        });
        await runTo(clock, 10_000, { busy: () => error === undefined && clock.nextAt === undefined });
        await ready;
        assert.ok(error instanceof KeyshiftError);
        assert.ok(clock.now() <= 10_000, 'within the startup timeout');
        for (const name of ['A_KEY', 'C_QUEUE', 'E_FLAG']) assert.match(error.message, new RegExp(name));
        for (const name of ['B_URL', 'D_FEE']) assert.doesNotMatch(error.message, new RegExp(name));
        store.clear();
        await ks.close();
      } finally {
        await store.close();
      }
    });
  }

  it('store -> env chain: ready() succeeds from env, status shows the fallback, an alert, an error event and a warning say why; the store takes over again', async () => {
    const store = await memoryStore();
    for (const [name, value] of Object.entries(values)) await store.set(name, value);
    store.fail('unavailable');
    const warnings: string[] = [];
    const clock = new StepClock();
    const ks = createKeyshift(five, {
      source: fallbackChain([store.source(), env({ env: { A_KEY: 'fake-from-env', B_URL: 'https://env.example/', C_QUEUE: 'q-env', D_FEE: '2', E_FLAG: 'false' } })]),
      clock,
      random: () => 0.5,
      logger: { info() {}, error: (_o, m) => warnings.push(m), warn: (_o, m) => warnings.push(m) },
    });
    const errors: Array<{ name: string | undefined; code: string }> = [];
    ks.on('error', (e) => errors.push({ name: e.name, code: e.error.code }));
    const rules = createAlertRules([ks], { logger: false }, clock);
    const fallbacks = alertsOf(rules, 'source-fallback');
    await ks.ready();
    assert.equal(ks.get('A_KEY').reveal(), 'fake-from-env');
    const status = ks.status();
    assert.equal(status.source, 'fallback(memory>env)');
    assert.deepEqual(new Set(status.entries.map((e) => e.source)), new Set(['env']));
    assert.deepEqual(new Set(errors.map((e) => e.code)), new Set([ErrorCodes.SOURCE_UNAVAILABLE]), 'the store failure is reported, not swallowed');
    assert.deepEqual(new Set(errors.map((e) => e.name)), new Set(Object.keys(values)));
    assert.ok(warnings.some((w) => /A_KEY/.test(w) && /env/.test(w)), 'a warning names the entry and the fallback');
    assert.deepEqual(
      fallbacks.map((e) => `${e.state}:${e.alert.entry}:${e.alert.severity}`).sort(),
      Object.keys(values).map((name) => `firing:${name}:warning`).sort(),
      'one source-fallback alert per entry',
    );
    assert.match(fallbacks[0]?.alert.message ?? '', /is served by env because a preferred source failed \(KS_ERR_SOURCE_UNAVAILABLE\)/);
    store.clear();
    await runTo(clock, 5 * 60_000 * 1.1);
    assert.equal(ks.get('A_KEY').reveal(), FAKE, 'the store serves again after its recovery');
    assert.equal(ks.status().entries.find((e) => e.name === 'A_KEY')?.source, 'memory');
    assert.equal(rules.firing().length, 0, 'the fallback alerts resolve once the store serves again');
    await rules.close();
    await ks.close();
  });

  it('crash-loop protection: a failed ready() is held back until minStartupFailureMs (5 s) has passed', async () => {
    const store = await memoryStore();
    await store.set('A_KEY', FAKE);
    store.fail('denied');
    const clock = new StepClock();
    const ks = createKeyshift(defineSecrets({ A_KEY: five.A_KEY }), { source: store.source(), clock, logger: false, minStartupFailureMs: 5_000 });
    let rejectedAt: number | undefined;
    const ready = ks.ready().catch(() => {
      rejectedAt = clock.now();
    });
    await runTo(clock, 4_999);
    assert.equal(rejectedAt, undefined, 'not before 5 s');
    await runTo(clock, 5_000);
    await ready;
    assert.equal(rejectedAt, 5_000);
    await ks.close();
  });
});
