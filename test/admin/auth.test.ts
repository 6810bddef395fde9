import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AdminHandlerOptions, createAdminHandler, createTokenAuth } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, ErrorCodes, type KeyshiftError, Secret, t } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';
import { adminFixture, TOKEN } from './_fixture.ts';

describe('Plan 23: Admin auth', () => {
  it('answers 401 without a token or with another scheme, 403 with a wrong token, 200 with the right one', async () => {
    const f = await adminFixture();
    try {
      const cases: Array<[Record<string, string>, number]> = [
        [{}, 401],
        [{ authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }, 401],
        [{ authorization: 'Bearer' }, 401],
        [{ authorization: 'Bearer    ' }, 401],
        [{ authorization: `Bearer ${TOKEN}x` }, 403],
        [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, 403],
        [{ authorization: `bearer ${TOKEN}` }, 200],
        [{ authorization: `Bearer ${TOKEN}` }, 200],
      ];
      for (const [headers, status] of cases) {
        const res = await f.call('/admin/status', { headers });
        assert.equal(res.status, status, JSON.stringify(headers));
        if (status === 401) assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="keyshift"');
      }
    } finally {
      await f.close();
    }
  });

  it('refuses tokens of any length without a 500, and oversized headers with 431 before comparing', async () => {
    const f = await adminFixture({ handler: { rateLimit: { maxFailures: 1_000 } } });
    try {
      for (const length of [1, 31, 32, 33, 4_000]) {
        const res = await f.call('/admin/status', { headers: { authorization: `Bearer ${'x'.repeat(length)}` } });
        assert.equal(res.status, 403, `length ${length}`);
      }
      for (const length of [4_097, 1_000_000]) {
        const res = await f.call('/admin/status', { headers: { authorization: `Bearer ${'x'.repeat(length)}` } });
        assert.equal(res.status, 431, `length ${length}`);
      }
      assert.equal((await f.call('/admin/status', { headers: { authorization: 'Bearer é' } })).status, 403);
    } finally {
      await f.close();
    }
  });

  it('accepts the token as a Secret or as a function read per request (a rotating token)', async () => {
    let current = 'first-rotating-admin-token-000';
    const f = await adminFixture({ handler: { token: () => new Secret(current) } });
    try {
      const as = (token: string) => f.call('/admin/status', { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await as('first-rotating-admin-token-000')).status, 200);
      current = 'second-rotating-admin-token-00';
      assert.equal((await as('first-rotating-admin-token-000')).status, 403);
      assert.equal((await as('second-rotating-admin-token-00')).status, 200);
    } finally {
      await f.close();
    }
  });

  it('refuses a token shorter than 16 characters at configuration time, without echoing it', () => {
    assert.throws(
      () => createTokenAuth('short-tok'),
      (error: Error) => error.message.includes('at least 16') && !error.message.includes('short-tok'),
    );
    assert.throws(() => createTokenAuth(''), /at least 16/);
  });

  it('createAdminHandler() refuses a typo or a wrong type in its options, naming the option, never the token', async () => {
    const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } }), { source: memorySource(), logger: false });
    const refused = async (options: Record<string, unknown>, message: RegExp): Promise<void> => {
      const full = { managers: ks, token: TOKEN, auditLog: () => {}, metrics: false, ...options };
      await assert.rejects(
        createAdminHandler(full as unknown as AdminHandlerOptions),
        (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION && message.test(e.message) && !e.message.includes(TOKEN),
      );
    };
    await refused({ basepath: '/ops' }, /^createAdminHandler\(\): unknown option "basepath" \(the options are managers, token, basePath/);
    await refused({ managers: undefined }, /managers must be a manager from createKeyshift\(\)/);
    await refused({ managers: [ks, {}] }, /managers must be a manager/);
    await refused({ maxBodyBytes: -1 }, /maxBodyBytes must be a positive whole number/);
    await refused({ rateLimit: { max: 5 } }, /unknown rateLimit field "max" \(the rateLimit fields are maxFailures, windowMs, maxClients\)/);
    await refused({ rateLimit: { windowMs: 0 } }, /rateLimit\.windowMs must be a positive whole number/);
    await refused({ alerts: { failureWindow: 1 } }, /unknown alerts field "failureWindow"/);
    await refused({ metrics: 'no' }, /metrics must be true or false/);
    await refused({ auditLog: 'stderr' }, /auditLog must be a function/);
    const handler = await createAdminHandler({ managers: [ks], token: TOKEN, basePath: '/ops', auditLog: () => {}, metrics: false, maxBodyBytes: 1024, rateLimit: { maxFailures: 3, windowMs: 1_000, maxClients: 10 }, alerts: { logger: false } });
    assert.equal(handler.basePath, '/ops/');
    await handler.close();
  });

  it('fingerprints tokens with a keyed HMAC: stable per key, different across keys, never the token', () => {
    const key = new Uint8Array(32).fill(7);
    const a = createTokenAuth(TOKEN, { fingerprintKey: key });
    const b = createTokenAuth(TOKEN, { fingerprintKey: key });
    const c = createTokenAuth(TOKEN);
    assert.equal(a.fingerprint(TOKEN), b.fingerprint(TOKEN));
    assert.notEqual(a.fingerprint(TOKEN), c.fingerprint(TOKEN));
    assert.match(a.fingerprint(TOKEN), /^[0-9a-f]{16}$/);
    const check = a.check(`Bearer ${TOKEN}`);
    assert.deepEqual(check, { ok: true, fingerprint: a.fingerprint(TOKEN) });
  });
});

describe('Plan 24: Admin rate limit', () => {
  it('answers 429 with Retry-After after 10 failures from one address, leaves other addresses alone, and reopens after the window', async () => {
    const f = await adminFixture();
    try {
      const wrong = { authorization: 'Bearer wrong-token-wrong-token-wrong' };
      const right = { authorization: `Bearer ${TOKEN}` };
      for (let i = 0; i < 10; i++) assert.equal((await f.call('/admin/status', { headers: wrong, client: '192.0.2.7' })).status, 403);
      const limited = await f.call('/admin/status', { headers: right, client: '192.0.2.7' });
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '60');
      assert.equal((await f.call('/admin/status', { headers: right, client: '198.51.100.1' })).status, 200);
      await f.clock.tick(30_000);
      const later = await f.call('/admin/refresh', { method: 'POST', headers: right, client: '192.0.2.7' });
      assert.equal(later.status, 429);
      assert.equal(later.headers.get('retry-after'), '30');
      await f.clock.tick(30_000);
      assert.equal((await f.call('/admin/status', { headers: right, client: '192.0.2.7' })).status, 200);
      const outcomes = f.audit.filter((a) => a.client === '192.0.2.7').map((a) => a.outcome);
      assert.deepEqual(outcomes, [...Array(10).fill('denied'), 'rate-limited', 'rate-limited', 'ok']);
    } finally {
      await f.close();
    }
  });

  it('an operator behind the attacker\'s address: the right token gets 429 too until the window ends, failures while limited do not extend it, other addresses pass (docs/admin.md)', async () => {
    const f = await adminFixture();
    try {
      const wrong = { authorization: 'Bearer wrong-token-wrong-token-wrong' };
      const right = { authorization: `Bearer ${TOKEN}` };
      const nat = '203.0.113.9';
      for (let i = 0; i < 1_000; i++) await f.call('/admin/status', { headers: wrong, client: nat });
      const statuses = f.audit.filter((a) => a.client === nat).map((a) => a.status);
      assert.deepEqual([statuses.filter((s) => s === 403).length, statuses.filter((s) => s === 429).length], [10, 990], 'only 10 tokens were compared');
      // the operator, same address, right token: refused like the attacker (a 200 here would tell a guess it was right)
      const operator = await f.call('/admin/status', { headers: right, client: nat });
      assert.equal(operator.status, 429);
      assert.equal(operator.headers.get('retry-after'), '60');
      assert.equal((await f.call('/admin/status', { headers: right, client: '198.51.100.20' })).status, 200, 'another address is not limited');
      await f.clock.tick(59_000);
      for (let i = 0; i < 100; i++) await f.call('/admin/status', { headers: wrong, client: nat });
      assert.equal((await f.call('/admin/status', { headers: right, client: nat })).headers.get('retry-after'), '1', 'refused attempts do not extend the window');
      await f.clock.tick(1_000);
      assert.equal((await f.call('/admin/status', { headers: right, client: nat })).status, 200, 'the window ended: the right token passes');
    } finally {
      await f.close();
    }
  });

  it('counts 401s and 431s as failures too', async () => {
    const f = await adminFixture({ handler: { rateLimit: { maxFailures: 2 } } });
    try {
      assert.equal((await f.call('/metrics')).status, 401);
      assert.equal((await f.call('/metrics', { headers: { authorization: `Bearer ${'x'.repeat(5_000)}` } })).status, 431);
      assert.equal((await f.authed('/metrics')).status, 429);
    } finally {
      await f.close();
    }
  });
});

describe('Issue 12.6: methods no route serves', () => {
  it('answers 405 with Allow and an audit line before authentication, for any token the request carries, without touching the rate limit', async () => {
    const f = await adminFixture({ handler: { rateLimit: { maxFailures: 2 } } });
    try {
      const cases: Array<[string, string, string | undefined, string]> = [
        ['/admin/status', 'FOO', undefined, 'GET, HEAD'],
        ['/admin/status', 'foo', undefined, 'GET, HEAD'],
        ['/admin/refresh', 'PUT', undefined, 'POST'],
        ['/metrics', 'OPTIONS', undefined, 'GET, HEAD'],
        ['/readyz', 'DELETE', undefined, 'GET, HEAD'],
        // what the node adapters pass for methods a web Request cannot carry
        ['/admin/status', 'OPTIONS', 'TRACE', 'GET, HEAD'],
        ['/admin/refresh', 'OPTIONS', 'CONNECT', 'POST'],
        ['/healthz', 'OPTIONS', 'get', 'GET, HEAD'],
        ['/admin/dashboard', 'OPTIONS', 'TRACE', 'GET, HEAD'],
      ];
      for (const [path, carried, sent, allow] of cases) {
        for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token-wrong' }] as Record<string, string>[]) {
          const res = await f.handler(new Request(`http://admin.test${path}`, { method: carried, headers }), { clientAddress: '192.0.2.50', ...(sent ? { method: sent } : {}) });
          assert.equal(res.status, 405, `${sent ?? carried} ${path}`);
          assert.equal(res.headers.get('allow'), allow);
          assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
        }
      }
      const refused = f.audit.filter((a) => a.client === '192.0.2.50');
      assert.equal(refused.length, cases.length * 2, 'one audit line per request, probes included');
      assert.deepEqual(
        refused.filter((_, i) => i % 2 === 0).map((a) => [a.action, a.method, a.outcome]),
        cases.map(([path, carried, sent]) => [
          path === '/readyz' || path === '/healthz' ? 'probe' : path === '/admin/refresh' ? 'refresh' : path.split('/').pop(),
          sent ?? carried,
          'method-not-allowed',
        ]),
      );
      assert.equal((await f.call('/admin/status', { headers: { authorization: `Bearer ${TOKEN}` }, client: '192.0.2.50' })).status, 200, 'refused methods are not failed logins');
    } finally {
      await f.close();
    }
  });
});

describe('Plan 24: Admin audit log', () => {
  it('writes exactly one line per admin call with time, client, action, names, outcome, status', async () => {
    const f = await adminFixture();
    try {
      await f.authed('/admin/status');
      await f.authed('/admin/refresh', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"names":["BATCH_SIZE"]}' });
      await f.authed('/metrics');
      await f.call('/admin/dashboard');
      await f.call('/admin/status', { headers: { authorization: 'Bearer not-the-token-not-the-token' } });
      await f.authed('/admin/nope');
      await f.call('/healthz');
      await f.call('/readyz');
      assert.deepEqual(
        f.audit.map((a) => [a.action, a.outcome, a.status, a.names]),
        [
          ['status', 'ok', 200, []],
          ['refresh', 'ok', 200, ['BATCH_SIZE']],
          ['metrics', 'ok', 200, []],
          ['dashboard', 'ok', 200, []],
          ['status', 'denied', 403, []],
          ['unknown-route', 'not-found', 404, []],
        ],
      );
      for (const line of f.audit) {
        assert.equal(line.client, '10.0.0.1');
        assert.equal(line.time, new Date(f.clock.wallNow()).toISOString());
        assert.equal(JSON.stringify(line).includes(TOKEN), false);
      }
      assert.match(f.audit[4]?.tokenFingerprint ?? '', /^[0-9a-f]{16}$/);
      assert.notEqual(f.audit[4]?.tokenFingerprint, f.audit[0]?.tokenFingerprint);
    } finally {
      await f.close();
    }
  });

  it('keeps answering when the audit sink throws', async () => {
    const f = await adminFixture({
      handler: {
        auditLog: () => {
          throw new Error('sink down');
        },
      },
    });
    const write = process.stderr.write;
    const errors: string[] = [];
    process.stderr.write = ((chunk: string) => errors.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      assert.equal((await f.authed('/admin/status')).status, 200);
      assert.equal((await f.authed('/admin/status')).status, 200);
    } finally {
      process.stderr.write = write;
      await f.close();
    }
    assert.equal(errors.filter((e) => e.includes('audit sink threw')).length, 1);
  });
});
