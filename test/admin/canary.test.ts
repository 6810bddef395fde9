import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { type AlertEvent, type AuditRecord, createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, ErrorCodes, t } from '../../src/index.ts';
import { createFakeClock, memorySource } from '../../src/testing/index.ts';
import { z } from 'zod';
import { captureLogger } from './_fixture.ts';

/** Passes "ok"; fails anything else with a message echoing it in upper case and in part. */
const echoing: StandardSchemaV1<string, string> = {
  '~standard': {
    version: 1,
    vendor: 'echo-test',
    validate: (input: unknown) => (input === 'ok' ? { value: 'ok' } : { issues: [{ message: `got ${String(input).toUpperCase()}, starting ${String(input).slice(0, 12)}` }] }),
  },
};

const CANARY = `canary${randomBytes(12).toString('hex')}`;
const TOKEN = `tokencanary${randomBytes(12).toString('hex')}`;

/** The canary and the token in every encoding a leak could take. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret);
  // matched ignoring case, with two runs of 10 characters for a partial echo
  return [secret, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), encodeURIComponent(secret), secret.slice(6, 26), secret.slice(0, 10), secret.slice(-10)].map((f) => f.toLowerCase());
}
const FORBIDDEN = [...encodings(CANARY), ...encodings(TOKEN)];

describe('Plan 27: Canary sweep of the admin surface', () => {
  it('never shows a planted value or the token in a response, header, metric, audit line, alert, webhook message or log line', async () => {
    const captured: string[] = [];
    const keep = (where: string, text: string) => captured.push(`${where}: ${text}`);
    const clock = createFakeClock();
    const logs: string[] = [];
    const source = memorySource({
      values: {
        API_KEY: CANARY,
        UPSTREAM_URL: `https://upstream.example.test/${CANARY}?k=${CANARY}#${CANARY}`,
        LIMIT: '10',
        SIGNING_KEY: `${CANARY}-static-signing-key`,
        TENANTS: '{"tenant":1}',
        ECHOED: 'ok',
      },
    });
    const ks = createKeyshift(
      defineSecrets({
        API_KEY: { type: t.string(), category: 'api-key', maxStaleMs: 5_000, onStale: 'fail-closed' },
        UPSTREAM_URL: { type: t.url(), category: 'service-url' },
        LIMIT: { type: t.int(), category: 'app-config' },
        SIGNING_KEY: { type: t.string(), category: 'signing-key', static: true },
        // issue 12.3: a JSON value whose keys are secrets, and a validator that echoes its input changed
        TENANTS: { type: t.json(z.record(z.string(), z.number())), category: 'api-key' },
        ECHOED: { type: t.string(), category: 'api-key', validate: echoing },
      }),
      { source, clock, name: 'canary-svc', logger: captureLogger(logs) },
    );
    await ks.ready();
    const webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        keep('webhook', body);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
    const audit: AuditRecord[] = [];
    const alerts: AlertEvent[] = [];
    const handler = await createAdminHandler({
      managers: ks,
      token: TOKEN,
      clock,
      auditLog: (record) => audit.push(record),
      alerts: { logger: captureLogger(logs), webhook: { url: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`, sendResolved: true }, onAlert: (e) => alerts.push(e) },
      rateLimit: { maxFailures: 5 },
    });
    const write = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      keep('stdout', String(chunk));
      return write.out.call(process.stdout, chunk, ...rest);
    }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      keep('stderr', String(chunk));
      return true;
    }) as typeof process.stderr.write;

    const events: unknown[] = [];
    for (const name of ['change', 'rejected', 'error', 'stale', 'recovered', 'fetch'] as const) ks.on(name, (e) => events.push(e));

    const call = async (path: string, init: RequestInit = {}, client = '10.1.1.1') => {
      const res = await handler(new Request(`http://admin.test${path}`, init), { clientAddress: client });
      const lines: string[] = [];
      res.headers.forEach((value, name) => {
        lines.push(`${name}: ${value}`);
      });
      const headers = lines.join('\n');
      keep(`${init.method ?? 'GET'} ${path} ${res.status}`, `${headers}\n${await res.text()}`);
      return res.status;
    };
    const auth = { authorization: `Bearer ${TOKEN}` };
    const jsonAuth = { ...auth, 'content-type': 'application/json' };
    try {
      // every route, healthy
      for (const path of ['/healthz', '/readyz', '/admin', '/admin/dashboard']) await call(path);
      await call('/healthz', { method: 'HEAD' });
      await call('/admin/status', { headers: auth });
      await call('/metrics', { headers: auth });
      await call('/admin/refresh', { method: 'POST', headers: auth });
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: JSON.stringify({ names: ['API_KEY', 'UPSTREAM_URL'] }) });
      // a new version, a rejected version, an outage past maxStale (fail-closed), recovery
      source.set('API_KEY', `${CANARY}-v2`);
      await clock.tick(1_000);
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["API_KEY"]}' });
      source.set('LIMIT', `${CANARY}`);
      await clock.tick(1_000);
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["LIMIT"]}' });
      // issue 12.3: the value as a JSON key, as a URL scheme, echoed in upper case and in part
      source.set('TENANTS', JSON.stringify({ tenant: 1, [CANARY]: 'not a number' }));
      source.set('UPSTREAM_URL', `${CANARY}://upstream.example.test/`);
      source.set('ECHOED', CANARY);
      await clock.tick(1_000);
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["TENANTS","UPSTREAM_URL","ECHOED"]}' });
      await call('/admin/status', { headers: auth });
      assert.equal(events.filter((e) => (e as { code?: string }).code === 'KS_ERR_VALUE_REJECTED').length >= 4, true, 'the four rejections were emitted');
      source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
      for (let i = 0; i < 4; i++) {
        await clock.tick(1_000);
        await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["API_KEY","UPSTREAM_URL"]}' });
      }
      await clock.tick(10_000);
      assert.throws(() => ks.get('API_KEY'), /fails closed/);
      await call('/admin/status', { headers: auth });
      await call('/metrics', { headers: auth });
      source.fail(undefined);
      source.set('LIMIT', '11');
      await clock.tick(1_000);
      await call('/admin/refresh', { method: 'POST', headers: auth });
      await call('/admin/status', { headers: auth });
      // every error path, with the canary and the token in what the client sends
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: `{"names": [${CANARY}]}` });
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: `{"names": ["${CANARY}`.padEnd(20_000, ' ') });
      await call('/admin/refresh', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: CANARY });
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["SIGNING_KEY"]}' });
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["NOT_DECLARED"]}' });
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: JSON.stringify({ names: [`${CANARY} x`] }) });
      await call('/admin/refresh', { headers: auth });
      await call('/admin/nowhere', { headers: auth });
      await call('/admin/status', { headers: { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` } }, '10.2.2.2');
      await call('/admin/status', { headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } }, '10.2.2.2');
      await call('/admin/status', { headers: { authorization: `Bearer ${TOKEN.repeat(300)}` } }, '10.2.2.2');
      for (let i = 0; i < 4; i++) await call('/admin/status', { headers: { authorization: `Bearer ${CANARY}` } }, '10.2.2.2');
      await call('/admin/status', { headers: auth }, '10.2.2.2');
      await handler.alerts.idle();
    } finally {
      await handler.close();
      await ks.close();
      process.stdout.write = write.out;
      process.stderr.write = write.err;
      webhook.closeAllConnections();
      await new Promise<void>((resolve) => webhook.close(() => resolve()));
    }

    const statuses = captured.map((c) => c.split(':')[0]);
    for (const status of [200, 302, 400, 401, 403, 404, 405, 409, 413, 415, 429, 431]) {
      assert.ok(statuses.some((s) => s?.endsWith(` ${status}`)), `no response with status ${status}`);
    }
    assert.ok(captured.some((c) => c.startsWith('webhook')), 'the webhook received alerts');
    assert.ok(alerts.length >= 3 && audit.length >= 20 && logs.length > 5);
    const everything = [
      ...captured,
      ...logs,
      ...audit.map((a) => JSON.stringify(a)),
      ...alerts.map((a) => JSON.stringify(a)),
      ...events.map((e) => JSON.stringify(e, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v))),
    ];
    for (const text of everything) {
      for (const needle of FORBIDDEN) assert.equal(text.toLowerCase().includes(needle), false, `a planted secret leaked into: ${text.slice(0, 200).replaceAll(needle, '<LEAK>')}`);
    }
  });
});
