import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAdminHandler, entryState } from '../../src/admin/index.ts';
import type { EntryStatus } from '../../src/index.ts';
import { NotificationHealth } from '../../src/core/notification-health.ts';
import { createKeyshift, defineSecrets, ErrorCodes, KeyshiftError, t } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';
import { adminFixture, declaration, TOKEN } from './_fixture.ts';

type Status = {
  ready: boolean;
  managers: Array<{ name: string; entries: Array<EntryStatus & { state: string }> }>;
  alerts: Array<{ rule: string; entry: string }>;
  usage: { storeAccesses: number; perMinute: number; projectedMonthlyAccesses: number; projectedMonthlyCostUsd: number; costPer10kUsd: number };
};

describe('Health and readiness', () => {
  it('answers /healthz always and /readyz 503 until ready() resolved, without auth or audit', async () => {
    const f = await adminFixture({ ready: false });
    try {
      assert.equal((await f.call('/healthz')).status, 200);
      const head = await f.call('/healthz', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
      const early = await f.call('/readyz');
      assert.equal(early.status, 503);
      assert.deepEqual(await early.json(), { ready: false, managers: [{ name: 'PGP_SPLIT2_v1', ready: false }] });
      await f.ks.ready();
      assert.equal((await f.call('/readyz')).status, 200);
      assert.equal(f.audit.length, 0);
    } finally {
      await f.close();
    }
  });

  it('redirects /admin to the dashboard and serves the page without auth and without data', async () => {
    const f = await adminFixture();
    try {
      const redirect = await f.call('/admin');
      assert.equal(redirect.status, 302);
      assert.equal(redirect.headers.get('location'), '/admin/dashboard');
      const page = await f.call('/admin/dashboard');
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'sha256-/);
      const html = await page.text();
      assert.equal(html.includes('CHANGENOW_API_KEY'), false);
      assert.equal(html.includes('PGP_SPLIT2_v1'), false);
    } finally {
      await f.close();
    }
  });

  it('serves every route under a basePath', async () => {
    const f = await adminFixture({ handler: { basePath: '/ops' } });
    try {
      assert.equal(f.handler.basePath, '/ops/');
      assert.equal((await f.authed('/ops/admin/status')).status, 200);
      assert.equal((await f.call('/ops/healthz')).status, 200);
      assert.equal((await f.authed('/admin/status')).status, 404);
      assert.match(await (await f.call('/ops/admin/dashboard')).text(), /data-base="\/ops\/"/);
      assert.equal(f.handler.handles('/ops/metrics'), true);
      assert.equal(f.handler.handles('/metrics'), false);
    } finally {
      await f.close();
    }
  });
});

describe('GET /admin/status', () => {
  it('Plan 29: lists every entry with its kind, version, age, state, latency and success rate, and no value', async () => {
    const f = await adminFixture();
    try {
      await f.clock.tick(5_000);
      const res = await f.authed('/admin/status');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const text = await res.text();
      const body = JSON.parse(text) as Status;
      const entries = body.managers[0]?.entries ?? [];
      assert.deepEqual(
        entries.map((e) => [e.name, e.kind, e.version, e.state]),
        [
          ['CHANGENOW_API_KEY', 'dynamic', '1', 'ok'],
          ['PGP_SPLIT2_URL', 'dynamic', '2', 'ok'],
          ['TP_FLAT_FEE', 'dynamic', '3', 'ok'],
          ['BATCH_SIZE', 'dynamic', '4', 'ok'],
          ['SUCCESS_URL_SIGNING_KEY', 'static', '5', 'ok'],
        ],
      );
      assert.equal(entries[0]?.ageMs, 5_000);
      assert.equal(entries[0]?.successRate, 1);
      assert.deepEqual(entries[0]?.latencyMs, { p50: 0, p99: 0 });
      assert.equal(entries[1]?.display, 'https://split2.example.test');
      for (const secret of ['fake-changenow-key-1', 'fake-signing-key', '/estimate']) assert.equal(text.includes(secret), false, secret);
      assert.equal(body.ready, true);
    } finally {
      await f.close();
    }
  });

  it('shows a failing store as stale with its error code, and a rejected version with its alert', async () => {
    const f = await adminFixture();
    try {
      f.source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
      await f.ks.refresh(['CHANGENOW_API_KEY']);
      f.source.fail(undefined);
      f.source.set('BATCH_SIZE', 'twenty');
      await f.ks.refresh(['BATCH_SIZE']);
      const body = (await (await f.authed('/admin/status')).json()) as Status;
      const byName = new Map(body.managers[0]?.entries.map((e) => [e.name, e]));
      assert.equal(byName.get('CHANGENOW_API_KEY')?.state, 'stale');
      assert.equal(byName.get('CHANGENOW_API_KEY')?.lastError?.code, 'KS_ERR_SOURCE_UNAVAILABLE');
      assert.equal(byName.get('BATCH_SIZE')?.state, 'rejected');
      assert.equal(byName.get('BATCH_SIZE')?.version, '4');
      assert.deepEqual(body.alerts.map((a) => [a.rule, a.entry]), [['rejected', 'BATCH_SIZE']]);
    } finally {
      await f.close();
    }
  });

  it('names each state from worst to best', () => {
    const base = { name: 'X', failClosed: false, staleExceeded: false, stale: false, recentFailures: 0, consecutiveFailures: 0, version: '1', lastError: undefined } as EntryStatus;
    assert.equal(entryState(base, []), 'ok');
    assert.equal(entryState({ ...base, version: undefined }, []), 'loading');
    assert.equal(entryState({ ...base, stale: true, consecutiveFailures: 1 }, []), 'stale');
    assert.equal(entryState({ ...base, stale: true, recentFailures: 3 }, []), 'failing');
    assert.equal(entryState({ ...base, staleExceeded: true }, []), 'failing');
    assert.equal(entryState({ ...base, failClosed: true, staleExceeded: true }, []), 'fail-closed');
    assert.equal(entryState({ ...base, lastError: { code: 'KS_ERR_VALUE_REJECTED', message: '' } }, []), 'rejected');
  });

  it('projects the month of store access calls and their cost from the steady rate', async () => {
    const f = await adminFixture();
    try {
      for (let i = 0; i < 10; i++) {
        await f.clock.tick(6_000);
        await f.ks.refresh(['CHANGENOW_API_KEY']);
      }
      const { usage } = (await (await f.authed('/admin/status')).json()) as Status;
      // the 5 startup loads happened before the handler existed; 10 admin refreshes and the TTL refreshes of the minute since
      const calls = f.source.totalCalls - 5;
      assert.ok(calls >= 10);
      assert.equal(usage.storeAccesses, calls);
      assert.equal(usage.perMinute, calls);
      assert.equal(usage.projectedMonthlyAccesses, calls * 60 * 24 * 30);
      assert.equal(usage.projectedMonthlyCostUsd.toFixed(6), (((calls * 43_200) / 10_000) * 0.03).toFixed(6));
      assert.equal(usage.costPer10kUsd, 0.03);
    } finally {
      await f.close();
    }
  });
});

describe('Several managers', () => {
  it('serves their status together and refreshes a name in every manager that declares it, or in the one named', async () => {
    const a = createKeyshift(declaration, { source: memorySource({ values: { ...valuesOf('a') } }), name: 'svc-a', logger: false });
    const b = createKeyshift(defineSecrets({ CHANGENOW_API_KEY: { type: t.string(), category: 'api-key' } }), {
      source: memorySource({ values: { CHANGENOW_API_KEY: 'fake-b' } }),
      name: 'svc-b',
      logger: false,
    });
    await Promise.all([a.ready(), b.ready()]);
    const handler = await createAdminHandler({ managers: [a, b], token: TOKEN, auditLog: () => {} });
    const call = (body: unknown) =>
      handler(new Request('http://x/admin/refresh', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    try {
      const status = (await (await handler(new Request('http://x/admin/status', { headers: { authorization: `Bearer ${TOKEN}` } }))).json()) as Status;
      assert.deepEqual(status.managers.map((m) => [m.name, m.entries.length]), [['svc-a', 5], ['svc-b', 1]]);
      const both = (await (await call({ names: ['CHANGENOW_API_KEY'] })).json()) as { results: Array<{ manager: string }> };
      assert.deepEqual(both.results.map((r) => r.manager), ['svc-a', 'svc-b']);
      const one = (await (await call({ names: ['CHANGENOW_API_KEY'], manager: 'svc-b' })).json()) as { results: Array<{ manager: string }> };
      assert.deepEqual(one.results.map((r) => r.manager), ['svc-b']);
      assert.equal((await call({ names: ['BATCH_SIZE'], manager: 'svc-b' })).status, 404);
      assert.equal((await call({ manager: 'svc-c' })).status, 404);
    } finally {
      await handler.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});

function valuesOf(prefix: string): Record<string, string> {
  return {
    CHANGENOW_API_KEY: `fake-${prefix}`,
    PGP_SPLIT2_URL: 'https://a.example.test/',
    TP_FLAT_FEE: '1',
    BATCH_SIZE: '1',
    SUCCESS_URL_SIGNING_KEY: 'fake-signing-key-for-tests-0123456789',
  };
}

describe('GET /metrics', () => {
  it('Plan 29: serves Prometheus text whose labels all come from declared names and fixed enums', async () => {
    const f = await adminFixture();
    try {
      f.source.set('BATCH_SIZE', 'not-a-number');
      await f.ks.refresh(['BATCH_SIZE', 'CHANGENOW_API_KEY'], { trigger: 'push' });
      f.source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
      await f.clock.tick(2_000);
      await f.ks.refresh(['TP_FLAT_FEE']);
      await f.authed('/admin/status');
      const res = await f.authed('/metrics');
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      const accesses = f.source.totalCalls - 5;
      for (const series of [
        'keyshift_fetches_total{manager="PGP_SPLIT2_v1",entry="BATCH_SIZE",category="app-config",source="memory",outcome="rejected"} 1',
        'keyshift_fetches_total{manager="PGP_SPLIT2_v1",entry="TP_FLAT_FEE",category="app-config",source="memory",outcome="error"} 1',
        'keyshift_refreshes_total{manager="PGP_SPLIT2_v1",entry="CHANGENOW_API_KEY",trigger="push"} 1',
        'keyshift_rejected_versions_total{manager="PGP_SPLIT2_v1",entry="BATCH_SIZE",category="app-config"} 1',
        `keyshift_store_accesses_total{manager="PGP_SPLIT2_v1",source="memory"} ${accesses}`,
        'keyshift_stale{manager="PGP_SPLIT2_v1",entry="TP_FLAT_FEE",category="app-config"} 1',
        'keyshift_value_age_seconds{manager="PGP_SPLIT2_v1",entry="TP_FLAT_FEE",category="app-config"} 2',
        'keyshift_ready{manager="PGP_SPLIT2_v1"} 1',
        'keyshift_alerts_firing{rule="rejected",severity="warning"} 1',
        'keyshift_admin_requests_total{action="status",status="200"} 1',
      ]) {
        assert.ok(text.includes(series), `missing ${series}`);
      }
      assert.match(text, /keyshift_fetch_duration_seconds_bucket\{le="0.005",manager="PGP_SPLIT2_v1",entry="BATCH_SIZE",source="memory"\} [1-9]/);
      const allowed = new Set([
        'PGP_SPLIT2_v1',
        ...declaration_names(),
        'api-key', 'service-url', 'app-config', 'signing-key', 'memory',
        'changed', 'unchanged', 'rejected', 'not-found', 'error', 'startup', 'ttl', 'retry', 'push', 'admin', 'manual', 'recheck',
        'warning', 'critical', 'slow-fetch', 'failing', 'stale-exceeded', 'status', 'metrics', '200',
      ]);
      for (const match of text.matchAll(/(\w+)="([^"]*)"/g)) {
        if (match[1] === 'le') continue;
        assert.ok(allowed.has(match[2] as string), `label ${match[1]}="${match[2]}" is not from a declared set`);
      }
      assert.equal(text.includes('not-a-number'), false);
    } finally {
      await f.close();
    }
  });

  it('keeps each handler in its own registry', async () => {
    const one = await adminFixture();
    const two = await adminFixture();
    try {
      await one.ks.refresh(['TP_FLAT_FEE']);
      const text = await (await two.authed('/metrics')).text();
      assert.equal(text.includes('entry="TP_FLAT_FEE",category="app-config",source="memory",outcome="unchanged"'), false);
      const prom = await import('prom-client');
      assert.equal(prom.register.getSingleMetric('keyshift_fetches_total'), undefined);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('exports the state of each watched notification path (1 for the current one) and a pull source counters, following its changes', async () => {
    const f = await adminFixture();
    const health = new NotificationHealth({ clock: f.clock });
    const counters = { messages: 0, heartbeatsSent: 0, heartbeatsBack: 0, errors: 0 };
    const states = (text: string, name: string) =>
      Object.fromEntries([...text.matchAll(new RegExp(`keyshift_notifications_state\\{manager="${name}",state="(\\w+)"\\} (\\d)`, 'g'))].map((m) => [m[1], Number(m[2])]));
    try {
      const before = await (await f.authed('/metrics')).text();
      assert.doesNotMatch(before, /^keyshift_notifications_state\{/m, 'no series before a path is watched');
      const stopPull = f.handler.alerts.watchNotifications('PGP_SPLIT2_v1', { health, status: () => ({ ...counters, subscription: 'projects/p/subscriptions/s' }) });
      assert.deepEqual(states(await (await f.authed('/metrics')).text(), 'PGP_SPLIT2_v1'), { unknown: 1, healthy: 0, quiet: 0, down: 0 });

      counters.heartbeatsSent = 3;
      counters.heartbeatsBack = 2;
      counters.messages = 7;
      health.beat();
      let text = await (await f.authed('/metrics')).text();
      assert.deepEqual(states(text, 'PGP_SPLIT2_v1'), { unknown: 0, healthy: 1, quiet: 0, down: 0 });
      for (const series of [
        'keyshift_notification_messages_total{manager="PGP_SPLIT2_v1"} 7',
        'keyshift_notification_heartbeats_sent_total{manager="PGP_SPLIT2_v1"} 3',
        'keyshift_notification_heartbeats_back_total{manager="PGP_SPLIT2_v1"} 2',
        'keyshift_notification_errors_total{manager="PGP_SPLIT2_v1"} 0',
      ]) {
        assert.ok(text.includes(series), `missing ${series}`);
      }

      await f.clock.tick(4 * 60_000); // no heartbeat back for 3.5 min: quiet
      assert.deepEqual(states(await (await f.authed('/metrics')).text(), 'PGP_SPLIT2_v1'), { unknown: 0, healthy: 0, quiet: 1, down: 0 });
      counters.errors = 1;
      health.fail(new KeyshiftError(ErrorCodes.NOTIFICATIONS_UNAVAILABLE, 'the subscription failed'));
      text = await (await f.authed('/metrics')).text();
      assert.deepEqual(states(text, 'PGP_SPLIT2_v1'), { unknown: 0, healthy: 0, quiet: 0, down: 1 });
      assert.ok(text.includes('keyshift_notification_errors_total{manager="PGP_SPLIT2_v1"} 1'));
      assert.ok(text.includes('keyshift_alerts_firing{rule="notifications-quiet",severity="warning"} 1'));

      // a bare health (pull.health) gives the state only; a disposed watch drops its series
      const stopHealth = f.handler.alerts.watchNotifications('CHANGENOW_API_KEY', new NotificationHealth({ clock: f.clock }));
      text = await (await f.authed('/metrics')).text();
      assert.deepEqual(states(text, 'CHANGENOW_API_KEY'), { unknown: 1, healthy: 0, quiet: 0, down: 0 });
      assert.equal(text.includes('keyshift_notification_messages_total{manager="CHANGENOW_API_KEY"}'), false);
      stopPull();
      stopHealth();
      assert.doesNotMatch(await (await f.authed('/metrics')).text(), /^keyshift_notifications_state\{/m);
    } finally {
      health.close();
      await f.close();
    }
  });

  it('is absent when metrics are turned off', async () => {
    const f = await adminFixture({ handler: { metrics: false } });
    try {
      assert.equal((await f.authed('/metrics')).status, 404);
    } finally {
      await f.close();
    }
  });
});

function declaration_names(): string[] {
  return Object.keys(declaration);
}

describe('GET /metrics: versions older than the one served', () => {
  it('counts an out-of-order answer per entry and source, and the served version stays', async () => {
    let answer = { value: '20', version: '7', order: 7 };
    const source = { kind: 'lagging', get: async () => answer };
    const ks = createKeyshift(defineSecrets({ BATCH_SIZE: { type: t.int(), category: 'app-config' } }), { source, name: 'svc', logger: false, minRefreshIntervalMs: 0 });
    const handler = await createAdminHandler({ managers: ks, token: TOKEN });
    try {
      await ks.ready();
      answer = { value: '10', version: '6', order: 6 };
      await ks.refresh('BATCH_SIZE');
      await ks.refresh('BATCH_SIZE');
      assert.equal(ks.get('BATCH_SIZE'), 20);
      const res = await handler(new Request('http://admin.test/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }), { clientAddress: '10.0.0.1' });
      const text = await res.text();
      assert.ok(text.includes('keyshift_out_of_order_versions_total{manager="svc",entry="BATCH_SIZE",category="app-config",source="lagging"} 2'), text);
    } finally {
      await handler.close();
      await ks.close();
    }
  });
});
