/**
 * Notifications known to be alive let the TTL rest: on the fake clock, the reference
 * platform's 17 services (85 dynamic entries) with a heartbeat coming back every minute
 * make a small fraction of the access calls their category TTLs make (the usage meter's
 * projection); when the heartbeat stops, an alert fires and every entry is back on its
 * category TTL within minutes.
 */
import * as assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dummyValues } from '../../examples/pgp/demo/dummy-values.ts';
import { createAlertRules } from '../../src/admin/alert-rules.ts';
import { UsageMeter } from '../../src/admin/usage-meter.ts';
import { NotificationHealth } from '../../src/core/notification-health.ts';
import { createKeyshift, type Declaration, type Keyshift } from '../../src/index.ts';
import { createFakeClock, type FakeClock, memorySource } from '../../src/testing/index.ts';

const DIR = fileURLToPath(new URL('../../examples/pgp/catalog/', import.meta.url));
const MIN = 60_000;
const HOUR = 60 * MIN;
/** The seeds' estimate for the platform (pgp-platform.md). */
const SEEDS_MONTHLY = 734_400;

/**
 * The reference workload: the catalog's 17 services, each with its own dynamic entries (54 in
 * all), topped up with other catalog entries (in catalog order, a service never twice the same)
 * to the 85 dynamic entries, as services share secrets.
 */
async function referenceWorkload(): Promise<Array<{ name: string; secrets: Declaration }>> {
  const { catalog } = (await import('../../examples/pgp/catalog/all-secrets.ts')) as { catalog: Declaration };
  const dynamicCatalog = Object.entries(catalog).filter(([, d]) => !(d as { static?: boolean }).static);
  const services: Array<{ name: string; secrets: Record<string, Declaration[string]> }> = [];
  for (const file of (await readdir(DIR)).filter((f) => f.startsWith('pgp-')).sort()) {
    const mod = (await import(new URL(file, `file://${DIR}`).href)) as { service: { name: string }; secrets: Declaration };
    const own = Object.entries(mod.secrets).filter(([, d]) => !(d as { static?: boolean }).static);
    services.push({ name: mod.service.name, secrets: Object.fromEntries(own) });
  }
  let total = services.reduce((n, s) => n + Object.keys(s.secrets).length, 0);
  for (let i = 0; total < 85; i++) {
    const service = services[i % services.length]!;
    const extra = dynamicCatalog.find(([name]) => !(name in service.secrets));
    if (extra && Object.keys(service.secrets).length < 8) {
      service.secrets[extra[0]] = extra[1];
      total++;
    }
  }
  return services;
}

async function platform(clock: FakeClock, health: NotificationHealth | undefined) {
  const source = memorySource({ values: dummyValues() });
  const managers: Keyshift<Declaration>[] = [];
  for (const service of await referenceWorkload()) {
    managers.push(createKeyshift(service.secrets, { source, clock, name: service.name, logger: false, ...(health ? { notifications: health } : {}) }));
  }
  const meter = new UsageMeter(clock);
  for (const ks of managers) ks.on('fetch', (e) => meter.record(e.trigger !== 'startup'));
  await Promise.all(managers.map((ks) => ks.ready()));
  const dynamic = managers.reduce((n, ks) => n + ks.entries.filter((e) => e.kind === 'dynamic').length, 0);
  return { managers, meter, dynamic, close: () => Promise.all(managers.map((ks) => ks.close())) };
}

/** A heartbeat that comes back every minute while `alive()`, as the pull source's does. */
function heartbeats(clock: FakeClock, health: NotificationHealth, alive: () => boolean): void {
  const beat = (): void => {
    if (alive()) health.beat();
    clock.setTimeout(beat, MIN);
  };
  beat();
}

/** The mean of the meter's hourly projections over `hours` (the meter projects from its last hour). */
async function meanProjection(clock: FakeClock, meter: UsageMeter, hours: number): Promise<number> {
  let sum = 0;
  for (let h = 0; h < hours; h++) {
    await clock.tick(HOUR);
    sum += meter.snapshot().projectedMonthlyAccesses;
  }
  return sum / hours;
}

describe('NotificationHealth: the safety TTL while notifications are alive', () => {
  it('the reference workload makes at least 100x fewer access calls a month than the seeds\' 734,400 while heartbeats come back', async (t) => {
    const baselineClock = createFakeClock();
    const baseline = await platform(baselineClock, undefined);
    assert.equal(baseline.managers.length, 17);
    assert.equal(baseline.dynamic, 85);
    await baselineClock.tick(HOUR); // past the first refresh of each entry
    const polled = await meanProjection(baselineClock, baseline.meter, 3);
    await baseline.close();

    const clock = createFakeClock();
    const health = new NotificationHealth({ clock });
    heartbeats(clock, health, () => true);
    const fleet = await platform(clock, health);
    assert.equal(health.state, 'healthy');
    await clock.tick(24 * HOUR); // past the first safety refresh of each entry
    const rested = await meanProjection(clock, fleet.meter, 48);
    await fleet.close();
    health.close();

    t.diagnostic(
      `85 dynamic entries in 17 services, usage-meter projection: category TTLs ${Math.round(polled)} access calls/month; ` +
        `notifications healthy (12 h safety TTL) ${Math.round(rested)}/month = ${(SEEDS_MONTHLY / rested).toFixed(0)}x fewer than the seeds' ${SEEDS_MONTHLY}`,
    );
    assert.ok(polled > 100 * rested, `category TTLs ${polled} vs rested ${rested}`);
    assert.ok(rested > 0, 'the safety TTL still refreshes');
    assert.ok(rested * 100 <= SEEDS_MONTHLY, `${rested} a month is not 100x under ${SEEDS_MONTHLY}`);
  });

  it('when the heartbeat stops, an alert fires and every entry is back on its category TTL within minutes; it resolves when heartbeats return', async () => {
    const clock = createFakeClock();
    const health = new NotificationHealth({ clock });
    let alive = true;
    const fleet = await platform(clock, health);
    // healthy after ready(): every entry is rescheduled at the safety TTL (12 h ± 10 %)
    heartbeats(clock, health, () => alive);
    assert.equal(health.state, 'healthy');
    const alerts = createAlertRules([], { logger: false }, clock);
    const events: string[] = [];
    alerts.on((e) => events.push(`${e.state}:${e.alert.rule}`));
    alerts.watchNotifications('fleet', health);
    const fetchedAt = new Map<string, number>();
    // the first fetch of each entry
    for (const ks of fleet.managers) ks.on('fetch', (e) => fetchedAt.has(`${ks.name}/${e.name}`) || fetchedAt.set(`${ks.name}/${e.name}`, clock.now()));

    await clock.tick(2 * HOUR);
    assert.equal(fetchedAt.size, 0, 'no entry was polled in 2 h while notifications were healthy');

    alive = false;
    const stoppedAt = clock.now();
    await clock.tick(4 * MIN);
    assert.equal(health.state, 'quiet');
    assert.deepEqual(events, ['firing:notifications-quiet']);
    assert.match(alerts.firing()[0]!.message, /no heartbeat came back/);
    // the longest category TTL of these entries is 10 min (+10 % jitter)
    await clock.tick(12 * MIN);
    assert.equal(fetchedAt.size, 85, 'every dynamic entry was fetched again');
    const latest = Math.max(...fetchedAt.values());
    assert.ok(latest - stoppedAt <= 3.5 * MIN + 11 * MIN, `the last entry came back after ${(latest - stoppedAt) / MIN} min`);

    alive = true;
    await clock.tick(MIN);
    assert.equal(health.state, 'healthy');
    assert.deepEqual(events, ['firing:notifications-quiet', 'resolved:notifications-quiet']);
    await alerts.close();
    await fleet.close();
    health.close();
  });

  it('a failed path (down) falls back at once and names its error code in the alert', async () => {
    const clock = createFakeClock();
    const health = new NotificationHealth({ clock });
    health.beat();
    assert.equal(health.ttlMs(60_000), 12 * HOUR);
    const alerts = createAlertRules([], { logger: false }, clock);
    alerts.watchNotifications('svc', health);
    const { KeyshiftError, ErrorCodes } = await import('../../src/errors.ts');
    health.fail(new KeyshiftError(ErrorCodes.NOTIFICATIONS_UNAVAILABLE, 'the subscription failed'));
    assert.equal(health.ttlMs(60_000), 60_000);
    assert.equal(health.status().errorCode, ErrorCodes.NOTIFICATIONS_UNAVAILABLE);
    assert.match(alerts.firing()[0]!.message, /down: the path failed \(KS_ERR_NOTIFICATIONS_UNAVAILABLE\)/);
    await alerts.close();
    health.close();
  });
});
