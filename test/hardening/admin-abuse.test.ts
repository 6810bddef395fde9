/**
 * Plan section C, test 26: a refresh flood through the admin endpoint with valid auth.
 * Tests 23-25 are in test/admin/auth.test.ts and test/admin/refresh-route.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createFakeClock, memorySource } from '../../src/testing/index.ts';
import { tracked } from './_stores.ts';
import { failOnUnhandled } from './_strict.ts';

failOnUnhandled();

const TOKEN = 'flood-admin-token-0123456789abcdef';

describe('Plan 26: admin refresh flood', () => {
  it('1,000 POST /admin/refresh a second for 10 s: <= 1 store call in flight per entry, <= 1 per entry per second, responses say coalesced, reads never wait', async () => {
    const clock = createFakeClock();
    const base = memorySource({ values: { API_KEY: 'k1', FEE: '1.5' }, delay: (ms) => new Promise((resolve) => clock.setTimeout(resolve, ms)) });
    base.latency(50);
    const source = tracked(base, () => clock.now());
    const ks = createKeyshift(
      defineSecrets({ API_KEY: { type: t.string(), category: 'api-key', ttlMs: 3_600_000 }, FEE: { type: t.decimal(), category: 'app-config', ttlMs: 3_600_000 } }),
      { source, clock, logger: false },
    );
    await Promise.all([ks.ready(), clock.tick(50)]);
    const handler = await createAdminHandler({ managers: ks, token: TOKEN, clock, auditLog: () => {}, alerts: { logger: false } });
    const startCalls = base.totalCalls;
    let sent = 0;
    let coalesced = 0;
    let fresh = 0;
    const statuses = new Map<number, number>();
    const post = async (): Promise<void> => {
      const res = await handler(new Request('http://admin.test/admin/refresh', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } }), { clientAddress: '10.0.0.1' });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const body = (await res.json()) as { results: Array<{ name: string; coalesced: boolean }> };
      for (const r of body.results) {
        if (r.coalesced) coalesced++;
        else fresh++;
      }
    };
    const pending: Promise<void>[] = [];
    for (let ms = 0; ms < 10_000; ms += 10) {
      for (let i = 0; i < 10; i++, sent++) pending.push(post()); // 1,000 a second
      const callsBefore = base.totalCalls;
      assert.equal(ks.get('API_KEY').reveal(), 'k1'); // a read is synchronous: it never waits for the flood
      assert.equal(base.totalCalls, callsBefore);
      if (ms % 1_000 === 500) base.set('API_KEY', 'k1'); // new versions keep each fetch real
      await clock.tick(10);
    }
    await clock.tick(2_000);
    await Promise.all(pending);
    const calls = base.totalCalls - startCalls;
    assert.equal(sent, 10_000);
    assert.deepEqual([...statuses], [[200, 10_000]]);
    assert.equal(source.peak, 1, 'at most 1 store call in flight per entry');
    // one call per entry per 1 s minimum interval, plus the trailing one
    for (const name of ['API_KEY', 'FEE']) {
      const n = source.starts.get(name)?.length ?? 0;
      assert.ok(n >= 10 && n <= 12, `${name}: ${n} store calls`);
    }
    assert.ok(calls <= 24);
    assert.equal(fresh + coalesced, 20_000);
    assert.ok(coalesced >= 20_000 - 24, `${coalesced} coalesced`);
    await handler.close();
    await ks.close();
  });
});
