import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AlertEvent, type AlertOptions, createAlertRules } from '../../src/admin/index.ts';
import { createKeyshift, ErrorCodes } from '../../src/index.ts';
import { createFakeClock, memorySource } from '../../src/testing/index.ts';
import { captureLogger, declaration, initialValues } from './_fixture.ts';

/** A manager whose store latency runs on the fake clock, with alert rules attached. */
async function alertFixture(options: AlertOptions = {}) {
  const clock = createFakeClock();
  const source = memorySource({
    values: initialValues,
    delay: (ms) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms)),
  });
  // no background retries: a test's failures are exactly its forced refreshes (and TTL refreshes it ticks past)
  const backoff = { initialMs: 900_000, maxMs: 900_000, jitter: 0 };
  // random() = 0.9: the first (spread) refresh at 0.9 TTL, the earliest it came before it was spread
  const ks = createKeyshift(declaration, { source, clock, name: 'svc', logger: false, backoff, random: () => 0.9 });
  await ks.ready();
  const logs: string[] = [];
  const events: AlertEvent[] = [];
  const rules = createAlertRules([ks], { logger: captureLogger(logs), ...options }, clock);
  rules.on((event) => events.push(event));
  const summary = () => events.map((e) => `${e.state} ${e.alert.id}`);
  /** Forces a refresh past the minimum refresh interval and lets it settle, `storeMs` of fake time later. */
  const refresh = async (name: string, storeMs = 0) => {
    await clock.tick(1_000);
    const pending = ks.refresh([name] as never);
    await clock.tick(storeMs);
    return pending;
  };
  const close = async () => {
    await rules.close();
    await ks.close();
  };
  return { clock, source, ks, rules, logs, events, summary, refresh, close };
}

describe('Alert rules', () => {
  it('fires slow-fetch once for a fetch over 500 ms and resolves it on the next fast fetch', async () => {
    const f = await alertFixture();
    try {
      f.source.latency(800);
      await f.refresh('CHANGENOW_API_KEY', 800);
      assert.deepEqual(f.summary(), ['firing slow-fetch:svc:CHANGENOW_API_KEY']);
      assert.match(f.events[0]?.alert.message ?? '', /fetch of CHANGENOW_API_KEY from memory took 800 ms \(threshold 500 ms\)/);
      assert.equal(f.events[0]?.alert.severity, 'warning');
      f.source.latency(0);
      await f.refresh('CHANGENOW_API_KEY');
      assert.deepEqual(f.summary(), ['firing slow-fetch:svc:CHANGENOW_API_KEY', 'resolved slow-fetch:svc:CHANGENOW_API_KEY']);
      assert.deepEqual(f.rules.firing(), []);
    } finally {
      await f.close();
    }
  });

  it('fires failing at the 3rd failed fetch in 5 minutes, once, and resolves on recovery', async () => {
    const f = await alertFixture({ fetchLatencyMs: 10_000 });
    try {
      f.source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
      await f.refresh('TP_FLAT_FEE');
      await f.refresh('TP_FLAT_FEE');
      const mine = () => f.summary().filter((line) => line.endsWith(':TP_FLAT_FEE'));
      assert.deepEqual(mine(), []);
      await f.refresh('TP_FLAT_FEE');
      assert.deepEqual(mine(), ['firing failing:svc:TP_FLAT_FEE']);
      const alert = f.rules.firing().find((a) => a.entry === 'TP_FLAT_FEE');
      assert.equal(alert?.severity, 'critical');
      assert.match(alert?.message ?? '', /TP_FLAT_FEE failed 3 fetches in 5 min \(last: KS_ERR_SOURCE_UNAVAILABLE\); serving last-known-good version 3/);
      for (let i = 0; i < 5; i++) await f.refresh('TP_FLAT_FEE');
      await f.clock.tick(60_000);
      assert.deepEqual(mine(), ['firing failing:svc:TP_FLAT_FEE'], 'one incident, one alert');
      f.source.fail(undefined);
      await f.refresh('TP_FLAT_FEE');
      assert.deepEqual(mine(), ['firing failing:svc:TP_FLAT_FEE', 'resolved failing:svc:TP_FLAT_FEE']);
      assert.equal(f.logs.filter((l) => l.includes('alert firing') && l.includes('TP_FLAT_FEE')).length, 1);
    } finally {
      await f.close();
    }
  });

  it('counts only the failures within the 5-minute window', async () => {
    const f = await alertFixture({ fetchLatencyMs: 10_000 });
    try {
      f.source.fail({ code: ErrorCodes.SOURCE_TIMEOUT });
      await f.refresh('CHANGENOW_API_KEY');
      await f.clock.tick(170_000);
      await f.refresh('CHANGENOW_API_KEY');
      await f.clock.tick(170_000);
      await f.refresh('CHANGENOW_API_KEY');
      const mine = () => f.summary().filter((line) => line.includes('failing:svc:CHANGENOW_API_KEY'));
      assert.deepEqual(mine(), [], 'the 1st and 3rd failures are 342 s apart');
      await f.refresh('CHANGENOW_API_KEY');
      assert.deepEqual(mine(), ['firing failing:svc:CHANGENOW_API_KEY']);
    } finally {
      await f.close();
    }
  });

  it('fires rejected per bad version, naming it, and resolves when a good version is served', async () => {
    const f = await alertFixture();
    try {
      const bad = f.source.set('BATCH_SIZE', 'twenty');
      await f.refresh('BATCH_SIZE');
      await f.refresh('BATCH_SIZE');
      assert.deepEqual(f.summary(), [`firing rejected:svc:BATCH_SIZE:${bad}`]);
      assert.match(f.events[0]?.alert.message ?? '', new RegExp(`version ${bad} of BATCH_SIZE was rejected \\(KS_ERR_VALUE_REJECTED\\); version 4 stays in service`));
      const worse = f.source.set('BATCH_SIZE', '1e3');
      await f.refresh('BATCH_SIZE');
      assert.equal(f.rules.firing().length, 2);
      f.source.set('BATCH_SIZE', '25');
      await f.refresh('BATCH_SIZE');
      assert.deepEqual(f.summary().slice(2).sort(), [`resolved rejected:svc:BATCH_SIZE:${bad}`, `resolved rejected:svc:BATCH_SIZE:${worse}`]);
      assert.equal(f.events.some((e) => e.alert.message.includes('twenty') || e.alert.message.includes('1e3')), false);
    } finally {
      await f.close();
    }
  });

  it('fires stale-exceeded when a value outlives its maxStale, and resolves on recovery', async () => {
    const f = await alertFixture({ fetchLatencyMs: 10_000, failures: 1_000 });
    try {
      f.source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
      await f.refresh('TP_FLAT_FEE');
      assert.deepEqual(f.rules.firing(), []);
      await f.clock.tick(125_000);
      assert.deepEqual(f.summary().filter((line) => line.endsWith(':TP_FLAT_FEE')), ['firing stale-exceeded:svc:TP_FLAT_FEE']);
      assert.match(f.events[0]?.alert.message ?? '', /TP_FLAT_FEE is 12\d s old, past its maxStale of 120 s; it is still served/);
      f.source.fail(undefined);
      await f.refresh('TP_FLAT_FEE');
      const mine = f.summary().filter((line) => line.endsWith(':TP_FLAT_FEE'));
      assert.deepEqual(mine, ['firing stale-exceeded:svc:TP_FLAT_FEE', 'resolved stale-exceeded:svc:TP_FLAT_FEE']);
    } finally {
      await f.close();
    }
  });

  it('keeps delivering to other listeners when one throws, and stops after close()', async () => {
    const f = await alertFixture();
    try {
      f.rules.on(() => {
        throw new Error('listener bug');
      });
      const later: AlertEvent[] = [];
      f.rules.on((e) => later.push(e));
      f.source.set('BATCH_SIZE', 'bad');
      await f.refresh('BATCH_SIZE');
      assert.equal(later.length, 1);
      assert.ok(f.logs.some((l) => l.includes('an alert listener threw')));
      await f.rules.close();
      f.source.set('BATCH_SIZE', 'worse');
      await f.refresh('BATCH_SIZE');
      assert.equal(later.length, 1);
    } finally {
      await f.close();
    }
  });
});
