import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  adoptionSlot,
  formatRolloutMarker,
  fractionAt,
  inSlice,
  nextStepInMs,
  parseRolloutMarker,
  resolveAdoption,
} from '../../src/core/adoption.ts';
import { type AlertEvent, createAdminMetrics, createAlertRules } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, ErrorCodes, KeyshiftError, t } from '../../src/index.ts';
import { createFakeClock, flush, type MemorySource, memorySource } from '../../src/testing/index.ts';
import { env } from '../../src/sources/env.ts';
import { fallbackChain } from '../../src/sources/fallback-chain.ts';
import type { Source } from '../../src/types.ts';

const policy = resolveAdoption('E', 'api-key', { steps: [0.1, 0.5], bakeMs: 60_000, maxFailures: 3 }, false)!;

describe('adoption: the slice math', () => {
  it('places an instance by a stable hash in [0, 1), the same in every process, different per version', () => {
    const a = adoptionSlot('instance-a', 'CN_API_KEY', '7');
    assert.equal(adoptionSlot('instance-a', 'CN_API_KEY', '7'), a);
    assert.ok(a >= 0 && a < 1);
    assert.notEqual(adoptionSlot('instance-a', 'CN_API_KEY', '8'), a);
    assert.notEqual(adoptionSlot('instance-b', 'CN_API_KEY', '7'), a);
    let below = 0;
    for (let i = 0; i < 2_000; i++) if (adoptionSlot(`i-${i}`, 'CN_API_KEY', '7') < 0.1) below++;
    // uniform: 200 expected, 4 standard deviations either way
    assert.ok(below > 146 && below < 254, `below 0.1: ${below}`);
  });

  it('grows the fraction step by step over the bake, then serves everywhere', () => {
    assert.equal(fractionAt(policy, 0), 0.1);
    assert.equal(fractionAt(policy, 29_999), 0.1);
    assert.equal(fractionAt(policy, 30_000), 0.5);
    assert.equal(fractionAt(policy, 59_999), 0.5);
    assert.equal(fractionAt(policy, 60_000), 1);
    assert.equal(nextStepInMs(policy, 0), 30_000);
    assert.equal(nextStepInMs(policy, 45_000), 15_000);
    assert.equal(nextStepInMs(policy, 60_000), undefined);
    assert.equal(inSlice(policy, 0.3, 29_000), false);
    assert.equal(inSlice(policy, 0.3, 31_000), true);
  });

  it('refuses a bad policy at declaration, naming the entry', () => {
    const cases: [string, unknown, RegExp][] = [
      ['api-key', { bakeMs: 1_000, steps: [0.1, 1.5] }, /CN_API_KEY: adoption step 1.5 is outside/],
      ['api-key', { bakeMs: 1_000, steps: [-0.1] }, /outside \(0, 1\]/],
      ['api-key', { bakeMs: 1_000, steps: [0.5, 0.2] }, /steps must increase/],
      ['api-key', { bakeMs: 0 }, /bakeMs must be a positive/],
      ['api-key', { bakeMs: 1_000, maxFailures: 0 }, /maxFailures/],
      ['database-credential', true, /refused for category database-credential/],
      ['signing-key', { bakeMs: 1_000 }, /refused for category signing-key/],
      ['webhook-secret', true, /refused for category webhook-secret/],
    ];
    for (const [category, adoption, message] of cases) {
      assert.throws(
        () => defineSecrets({ CN_API_KEY: { type: t.string(), category, adoption } } as never),
        (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.INVALID_DECLARATION && message.test(e.message),
        `${category} ${JSON.stringify(adoption)}`,
      );
    }
    assert.throws(() => defineSecrets({ X: { type: t.string(), static: true, adoption: true } }), /static entry/);
    assert.deepEqual(resolveAdoption('X', 'api-key', true, false)?.steps, [0.1, 0.5]);
    assert.equal(resolveAdoption('X', 'api-key', undefined, false), undefined);
  });

  it('reads a marker of another shape as KS_ERR_ROLLOUT_MARKER, and its own shape back', () => {
    for (const text of ['nope', '[]', '{"version":3,"state":"halted"}', '{"version":"3","state":"paused"}', '{"version":"3","state":"halted","reason":7}']) {
      assert.throws(() => parseRolloutMarker('E', text), (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.ROLLOUT_MARKER);
    }
    const marker = { version: '3', state: 'halted' as const, reason: '3 failures', at: '2026-01-01T00:00:00.000Z' };
    assert.deepEqual(parseRolloutMarker('E', formatRolloutMarker(marker)), marker);
    assert.equal(parseRolloutMarker('E', undefined), undefined);
  });
});

const N = 10;
const BAKE = 60_000;

function fleet(adoption: Record<string, unknown> = {}, options: { wrap?: (source: MemorySource) => Source; devDefault?: boolean } = {}) {
  const clock = createFakeClock();
  const source = memorySource({ values: { CN_API_KEY: 'key-old' } });
  const decl = defineSecrets({
    CN_API_KEY: { type: t.string(), category: 'api-key', ttlMs: 10_000, adoption: { steps: [0.2, 0.5], bakeMs: BAKE, maxFailures: 3, ...adoption } },
    ...(options.devDefault ? { LOG_LEVEL: { type: t.string(), devDefault: 'debug' } } : {}),
  });
  const managers = Array.from({ length: N }, (_, i) =>
    createKeyshift(decl, { source: options.wrap?.(source) ?? source, clock, random: () => 0.5, logger: false, instanceId: `instance-${i}`, minRefreshIntervalMs: 100 }),
  );
  const serving = (value: string) => managers.filter((ks) => ks.get('CN_API_KEY').reveal() === value).length;
  const slotted = (version: string, fraction: number) => managers.filter((ks) => adoptionSlot(ks.instanceId, 'CN_API_KEY', version) < fraction).length;
  const settle = async (ms: number) => {
    for (let t = 0; t < ms; t += 50) await clock.tick(50);
    await flush();
  };
  return { clock, source, managers, serving, slotted, settle };
}

describe('adoption: a fleet of managers on one store (fake clock)', () => {
  it('a good version reaches the first slice, then half, then everyone within the bake', async () => {
    const { source, managers, serving, slotted, settle } = fleet();
    await Promise.all(managers.map((ks) => ks.ready()));
    const version = source.set('CN_API_KEY', 'key-new');
    await settle(200);
    const first = slotted(version, 0.2);
    assert.ok(first >= 1 && first < N, `first slice ${first}`);
    assert.equal(serving('key-new'), first);
    const rollout = managers.map((ks) => ks.status().entries[0]?.rollout);
    assert.ok(rollout.every((r) => r?.version === version && r.fraction === 0.2 && !r.halted));
    await settle(BAKE / 2);
    assert.equal(serving('key-new'), slotted(version, 0.5));
    await settle(BAKE / 2);
    assert.equal(serving('key-new'), N);
    assert.ok(managers.every((ks) => ks.status().entries[0]?.rollout === undefined), 'baked: no rollout left');
    for (const ks of managers) assert.deepEqual(ks.status().entries[0]?.rolledOut, { version, promoted: false }, 'status keeps the completed rollout');
    await Promise.all(managers.map((ks) => ks.close()));
  });

  it('a bad version is served by the first slice only, halted past the threshold, and every instance is back on the old one', async () => {
    const { source, managers, serving, slotted, settle } = fleet();
    await Promise.all(managers.map((ks) => ks.ready()));
    const halts: { by: string; steppedBack: boolean }[] = [];
    for (const ks of managers) ks.on('rollout-halted', (e) => halts.push(e));
    const version = source.set('CN_API_KEY', 'key-bad');
    await settle(200);
    const first = slotted(version, 0.2);
    assert.equal(serving('key-bad'), first);
    let failed = 0;
    let peak = first;
    // every request on the bad key fails and is reported; requests run until nobody serves it
    for (let round = 0; round < 20 && serving('key-bad') > 0; round++) {
      for (const ks of managers) {
        if (ks.get('CN_API_KEY').reveal() === 'key-bad') {
          failed++;
          ks.reportFailure('CN_API_KEY');
        }
      }
      await settle(100);
      peak = Math.max(peak, serving('key-bad'));
    }
    assert.equal(serving('key-bad'), 0);
    assert.equal(serving('key-old'), N);
    assert.ok(peak <= first, `peak ${peak} > first slice ${first}`);
    assert.ok(failed <= 3 * first, `failed ${failed} > 3 x ${first}`);
    assert.equal(JSON.parse(String(await source.rolloutMarker?.('CN_API_KEY', { signal: AbortSignal.timeout(1_000) }).then((m) => JSON.stringify(m)))).state, 'halted');
    assert.ok(halts.some((h) => h.by === 'failures' && h.steppedBack));
    // past the bake nobody adopts it, and a refresh keeps the old key
    await settle(BAKE + 1_000);
    await Promise.all(managers.map((ks) => ks.refresh('CN_API_KEY')));
    assert.equal(serving('key-old'), N);
    assert.ok(managers.every((ks) => ks.status().entries[0]?.rollout?.halted === true));
    // a later good version rolls out as usual
    const fixed = source.set('CN_API_KEY', 'key-fixed');
    await settle(BAKE + 1_000);
    assert.equal(serving('key-fixed'), N, `fixed ${fixed}`);
    await Promise.all(managers.map((ks) => ks.close()));
  });

  it('a request pinned before the step back keeps seeing one version', async () => {
    const { source, managers, slotted, settle } = fleet({ maxFailures: 1 });
    await Promise.all(managers.map((ks) => ks.ready()));
    const version = source.set('CN_API_KEY', 'key-bad');
    await settle(200);
    const canary = managers.find((ks) => adoptionSlot(ks.instanceId, 'CN_API_KEY', version) < 0.2);
    assert.ok(canary && slotted(version, 0.2) >= 1);
    const seen = await canary.run(async () => {
      const before = canary.get('CN_API_KEY').reveal();
      canary.reportFailure('CN_API_KEY');
      await settle(100);
      return [before, canary.get('CN_API_KEY').reveal()];
    });
    assert.deepEqual(seen, ['key-bad', 'key-bad']);
    assert.equal(canary.get('CN_API_KEY').reveal(), 'key-old');
    await Promise.all(managers.map((ks) => ks.close()));
  });

  it('an operator promotes, halts and resumes through the marker', async () => {
    const { source, managers, serving, slotted, settle } = fleet();
    await Promise.all(managers.map((ks) => ks.ready()));
    const version = source.set('CN_API_KEY', 'key-new');
    await settle(200);
    assert.equal(serving('key-new'), slotted(version, 0.2));
    source.setRolloutMarker('CN_API_KEY', formatRolloutMarker({ version, state: 'halted', reason: 'operator' }));
    await settle(300);
    assert.equal(serving('key-new'), 0);
    source.setRolloutMarker('CN_API_KEY', undefined);
    await settle(300);
    assert.equal(serving('key-new'), slotted(version, 0.2), 'resumed: the bake starts again');
    assert.ok(managers.every((ks) => ks.status().entries[0]?.rolledOut === undefined), 'nothing completed yet');
    source.setRolloutMarker('CN_API_KEY', formatRolloutMarker({ version, state: 'promoted' }));
    await settle(300);
    assert.equal(serving('key-new'), N);
    for (const ks of managers) {
      assert.equal(ks.status().entries[0]?.rollout, undefined);
      assert.deepEqual(ks.status().entries[0]?.rolledOut, { version, promoted: true });
    }
    await Promise.all(managers.map((ks) => ks.close()));
  });

  // the store behind a fallback chain (the reference platform's configuration), or behind the dev defaults (NODE_ENV test)
  for (const [how, options] of [
    ['behind fallbackChain([store, env()])', { wrap: (s: MemorySource) => fallbackChain([s, env()]) }],
    ['behind the devDefault of another entry (NODE_ENV=test)', { devDefault: true }],
  ] as const) {
    it(`the marker is read and written through a wrapped store: ${how}`, async () => {
      const nodeEnv = process.env.NODE_ENV;
      process.env.NODE_ENV = 'test';
      try {
        const { source, managers, serving, slotted, settle } = fleet({ maxFailures: 1 }, options);
        await Promise.all(managers.map((ks) => ks.ready()));
        const version = source.set('CN_API_KEY', 'key-new');
        await settle(200);
        assert.ok(slotted(version, 0.2) >= 1);
        assert.equal(serving('key-new'), slotted(version, 0.2));
        source.setRolloutMarker('CN_API_KEY', formatRolloutMarker({ version, state: 'halted', reason: 'operator' }));
        await settle(300);
        assert.equal(serving('key-new'), 0, 'an operator halt takes every instance back');
        source.setRolloutMarker('CN_API_KEY', undefined);
        await settle(300);
        const canary = managers.find((ks) => ks.get('CN_API_KEY').reveal() === 'key-new');
        assert.ok(canary, 'resumed');
        canary.reportFailure('CN_API_KEY');
        await settle(300);
        const marker = await source.rolloutMarker?.('CN_API_KEY', { signal: AbortSignal.timeout(1_000) });
        assert.equal(marker?.state, 'halted', 'a halt by failures is written in the store');
        assert.equal(serving('key-new'), 0, 'and the other instances follow it');
        await Promise.all(managers.map((ks) => ks.close()));
      } finally {
        if (nodeEnv === undefined) delete process.env.NODE_ENV;
        else process.env.NODE_ENV = nodeEnv;
      }
    });
  }

  it('a marker of another shape is reported once and ignored; the rollout goes on', async () => {
    const { source, managers, serving, settle } = fleet();
    await Promise.all(managers.map((ks) => ks.ready()));
    const codes: string[] = [];
    for (const ks of managers) ks.on('error', (e) => codes.push(e.error.code));
    source.setRolloutMarker('CN_API_KEY', '{"halted": true}');
    source.set('CN_API_KEY', 'key-new');
    await settle(BAKE + 1_000);
    assert.equal(serving('key-new'), N);
    assert.equal(codes.filter((c) => c === ErrorCodes.ROLLOUT_MARKER).length, N);
    await Promise.all(managers.map((ks) => ks.close()));
  });

  it('a rejected version is halted in the store at once; an admin refresh promotes now', async () => {
    const clock = createFakeClock();
    const source = memorySource({ values: { CN_URL: 'https://a.example' } });
    const decl = defineSecrets({ CN_URL: { type: t.url(), category: 'service-url', adoption: { bakeMs: BAKE } } });
    const ks = createKeyshift(decl, { source, clock, random: () => 0.5, logger: false, instanceId: 'x' });
    await ks.ready();
    const bad = source.set('CN_URL', 'not a url');
    await ks.refresh('CN_URL');
    await flush();
    assert.deepEqual(await source.rolloutMarker?.('CN_URL', { signal: AbortSignal.timeout(1_000) }).then((m) => [m?.version, m?.state]), [bad, 'halted']);
    source.set('CN_URL', 'https://b.example');
    await clock.tick(2_000);
    const [result] = await ks.refresh('CN_URL', { trigger: 'admin' });
    assert.equal(result?.changed, true);
    assert.equal(ks.get('CN_URL'), 'https://b.example/');
    await ks.close();
  });

  it('a halt is an alert, a metric and a status field; a later version resolves the alert', async () => {
    const { source, managers, settle } = fleet({ maxFailures: 1 });
    await Promise.all(managers.map((ks) => ks.ready()));
    const rules = createAlertRules(managers as never, { logger: false } as never);
    const metrics = await createAdminMetrics(managers as never, () => rules.firing());
    const events: AlertEvent[] = [];
    rules.on((e) => events.push(e));
    const version = source.set('CN_API_KEY', 'key-bad');
    await settle(200);
    const canary = managers.find((ks) => adoptionSlot(ks.instanceId, 'CN_API_KEY', version) < 0.2);
    assert.ok(canary);
    canary.reportFailure('CN_API_KEY');
    await settle(300);
    const firing = rules.firing().filter((a) => a.rule === 'rollout-halted');
    assert.ok(firing.length >= 1);
    assert.match(firing[0]?.message ?? '', new RegExp(`version ${version} of CN_API_KEY is halted`));
    assert.ok(!JSON.stringify(firing).includes('key-bad'), 'no value in an alert');
    const text = (await metrics?.render()) ?? '';
    assert.match(text, /keyshift_rollouts_halted_total\{[^}]*by="failures"[^}]*\} 1/);
    assert.deepEqual(canary.status().entries[0]?.rollout && [canary.status().entries[0]?.rollout?.halted, canary.status().entries[0]?.rollout?.haltedBy], [true, 'failures']);
    source.set('CN_API_KEY', 'key-fixed');
    await settle(BAKE + 1_000);
    assert.equal(rules.firing().filter((a) => a.rule === 'rollout-halted').length, 0);
    metrics?.close();
    await rules.close();
    await Promise.all(managers.map((ks) => ks.close()));
  });
});
