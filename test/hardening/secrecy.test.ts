/**
 * Plan section D, tests 27, 29 and 30: a canary sweep over every output path of a
 * manager with a static entry, a dynamic entry, a DB password, an HMAC key and the admin
 * token all planted with canaries; metrics and status during faults and rejections; and
 * the third-party objects keyshift builds (pg pool, Google and AWS clients) inspected.
 * Test 28 (the Secret wrapper) is in test/core/redacted.test.ts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import pino from 'pino';
import { z } from 'zod';
import { createAdminHandler } from '../../src/admin/index.ts';
import { generateMasterKey } from '../../src/local-store/index.ts';
import { NotificationHealth } from '../../src/core/notification-health.ts';
import { createKeyshift, defineSecrets, ErrorCodes, KeyshiftError, t } from '../../src/index.ts';
import { createHmacKeyring, createKeyset, serializeKeyset } from '../../src/rotation/keyring/hmac-keyring.ts';
import { createRotatingPool } from '../../src/rotation/pg/pg-pool.ts';
import { createFakeClock, flush, memorySource } from '../../src/testing/index.ts';
import type { Logger } from '../../src/types.ts';
import { runInProcess } from '../cli/_run.ts';
import { Capture, type Canary, everythingOf, hits, makeCanary } from './_canary.ts';
import { assertBackToBaseline, activeResources, failOnUnhandled } from './_strict.ts';
import { awsStore, type FaultyStore, gcpStore } from './_stores.ts';

failOnUnhandled();

/** Passes "ok"; fails anything else with a message echoing it in upper case and in part (some validators echo their input). */
const echoing: StandardSchemaV1<string, string> = {
  '~standard': {
    version: 1,
    vendor: 'echo-test',
    validate: (input: unknown) =>
      input === 'ok' ? { value: 'ok' } : { issues: [{ message: `expected ok, got ${String(input).toUpperCase()} (starts ${String(input).slice(2, 14)})` }] },
  },
};

/** A real pino logger writing JSON lines into `capture` under `label`, with or without `redact`. */
function pinoInto(capture: Capture, label: string, redact: boolean): Logger {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      capture.add(label, chunk.toString('utf8'));
      done();
    },
  });
  return pino({ level: 'trace', ...(redact ? { redact: ['password', '*.password', 'value', '*.value', 'token'] } : {}) }, stream) as unknown as Logger;
}

describe('Plan 27: canary sweep', () => {
  it('no canary or any of its encodings in any output path: success, store faults, rejections, admin errors, close(), a crashing listener, CLI', async () => {
    const staticC = makeCanary('s');
    const dynamicC = makeCanary('d');
    const dbC = makeCanary('p');
    const hmacC = makeCanary('h');
    const tokenC = makeCanary('t');
    const schemeC = makeCanary('x', 'hex'); // a valid URL scheme: "x0a1...://host" parses with the canary as its scheme
    const canaries: Canary[] = [staticC, dynamicC, dbC, hmacC, tokenC, schemeC];
    const baseline = activeResources();
    const capture = new Capture();
    const clock = createFakeClock();
    const keyset = createKeyset({ now: 1_700_000_000_000, kid: 'k1', material: Buffer.from(hmacC.value) });
    const source = memorySource({
      values: {
        SIGNING_KEY: staticC.value,
        API_KEY: dynamicC.value,
        SPLIT_JSON: dynamicC.splitJson,
        DATABASE_PASSWORD: dbC.value,
        HMAC_KEYRING: serializeKeyset(keyset),
        LIMIT: '10',
        UPSTREAM_URL: `https://svc:${encodeURIComponent(dbC.value)}@upstream.example.test/x`,
        KEYED_JSON: '{"tenant":1}',
        ECHOED: 'ok',
      },
    });
    const ks = createKeyshift(
      defineSecrets({
        SIGNING_KEY: { type: t.string(), category: 'signing-key', static: true },
        API_KEY: { type: t.string(), category: 'api-key', maxStaleMs: 5_000, onStale: 'fail-closed' },
        SPLIT_JSON: { type: t.json(), category: 'api-key' },
        DATABASE_PASSWORD: { type: t.string(), category: 'database-credential', rotation: 'pg-pool' },
        HMAC_KEYRING: { type: t.string(), category: 'signing-key', rotation: 'keyring' },
        LIMIT: { type: t.int(), category: 'app-config' },
        UPSTREAM_URL: { type: t.url({ allowCredentials: true }), category: 'service-url' },
        // issue 12.3: a JSON secret whose keys are the value, and a validator that echoes its input in upper case and in part
        KEYED_JSON: { type: t.json(z.record(z.string(), z.number())), category: 'api-key' },
        ECHOED: { type: t.string(), category: 'api-key', validate: echoing },
      }),
      { source, clock, name: 'canary-sweep', logger: pinoInto(capture, 'pino', false), maxValueBytes: 4_096 },
    );
    capture.events(ks as unknown as Parameters<Capture['events']>[0]);
    const handler = await createAdminHandler({
      managers: ks,
      token: tokenC.value,
      clock,
      auditLog: (record) => capture.add('audit', JSON.stringify(record)),
      alerts: { logger: pinoInto(capture, 'pino-redact', true), onAlert: (e) => capture.add('alert', JSON.stringify(e)) },
      rateLimit: { maxFailures: 5 },
    });
    const statuses = new Set<number>();
    const call = async (path: string, init: RequestInit = {}, client = '10.0.0.1'): Promise<void> => {
      const res = await handler(new Request(`http://admin.test${path}`, init), { clientAddress: client });
      statuses.add(res.status);
      const headers: string[] = [];
      res.headers.forEach((value, name) => void headers.push(`${name}: ${value}`));
      capture.add(`admin ${init.method ?? 'GET'} ${path}`, `${headers.join('\n')}\n${await res.text()}`);
    };
    const auth = { authorization: `Bearer ${tokenC.value}` };
    const jsonAuth = { ...auth, 'content-type': 'application/json' };
    const tick = async (ms: number) => {
      await clock.tick(ms);
      await flush();
    };
    let pool: Awaited<ReturnType<typeof createRotatingPool>> | undefined;
    let ring: ReturnType<typeof createHmacKeyring> | undefined;
    try {
      // success
      await capture.catching('ready', () => ks.ready());
      ring = createHmacKeyring({ keyshift: ks, entry: 'HMAC_KEYRING', overlapMs: 70_000, tokenTtlMs: 60_000, clockSkewMs: 5_000, clock, logger: capture.logger('keyring') });
      const token = ring.sign('payload');
      capture.add('keyring verify', JSON.stringify(await ring.verify(token)));
      capture.add('keyring verify tampered', JSON.stringify(await ring.verify(`${token.slice(0, -2)}xx`)));
      capture.add('keyring', inspect(ring, { showHidden: true, depth: 8 }));
      pool = await createRotatingPool({ keyshift: ks, password: 'DATABASE_PASSWORD', user: 'app', poolConfig: { host: '127.0.0.1', port: 1, connectionTimeoutMillis: 500 }, logger: capture.logger('pool') });
      await capture.catching('pool.query (refused)', () => pool?.query('SELECT 1'));
      capture.add('pool', inspect(pool, { showHidden: true, depth: 8 }));
      for (const path of ['/healthz', '/readyz', '/admin', '/admin/dashboard']) await call(path);
      await call('/admin/status', { headers: auth });
      await call('/metrics', { headers: auth });
      capture.add('status()', JSON.stringify(ks.status()));
      capture.add('inspect(ks)', inspect(ks, { showHidden: true, depth: 8 }));

      // a crash in a change listener, then a new version
      const off = ks.on('change', () => {
        throw new Error('listener bug');
      });
      source.set('API_KEY', `${dynamicC.value}2`);
      await tick(1_100);
      off();

      // each store fault (tests 1-9), then not-found and a hang past the deadline
      for (const fault of [
        { code: ErrorCodes.SOURCE_UNAVAILABLE },
        { code: ErrorCodes.SOURCE_TIMEOUT },
        { code: ErrorCodes.SOURCE_THROTTLED, retryAfterMs: 2_000 },
        { code: ErrorCodes.SOURCE_DENIED },
        { code: ErrorCodes.SOURCE_NOT_FOUND },
        'hang' as const,
      ]) {
        source.fail(fault);
        const refresh = ks.refresh(['API_KEY', 'SPLIT_JSON', 'HMAC_KEYRING']);
        const admin = call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["API_KEY"]}' });
        await tick(3_100);
        capture.add('refresh results', JSON.stringify(await refresh));
        await admin;
        await tick(1_100);
      }
      await tick(10_000); // past API_KEY's maxStale: fail-closed
      await capture.catching('get past maxStale', () => ks.get('API_KEY'));
      await call('/admin/status', { headers: auth });
      await call('/metrics', { headers: auth });
      source.fail(undefined);
      await tick(31_000);

      // each rejection (tests 19-22), with the canary in the bad value
      const bad: Array<[string, string | Uint8Array]> = [
        ['LIMIT', dynamicC.value],
        ['LIMIT', `12${dynamicC.value}`],
        ['UPSTREAM_URL', `javascript:${dynamicC.value}`],
        ['SPLIT_JSON', `{"a":"${dynamicC.value}",}`],
        ['SPLIT_JSON', `{"__proto__":{"p":"${dynamicC.value}"}}`],
        ['API_KEY', dynamicC.value.repeat(200)],
        ['API_KEY', Buffer.concat([Buffer.from(dynamicC.value), Buffer.from([0xc3, 0x28])])],
        ['HMAC_KEYRING', `{"keys":[{"kid":"${hmacC.value}"`],
        ['KEYED_JSON', JSON.stringify({ tenant: 1, [dynamicC.value]: 'not a number' })],
        ['UPSTREAM_URL', `${schemeC.value}://upstream.example.test/`],
        ['ECHOED', dynamicC.value],
        ['ECHOED', `${dynamicC.value.slice(0, 20)}-other`],
      ];
      for (const [name, value] of bad) {
        source.set(name, value);
        await tick(1_100);
        await capture.catching(`refresh ${name}`, async () => capture.add('refresh results', JSON.stringify(await ks.refresh(name as never))));
      }
      await call('/admin/status', { headers: auth });
      await call('/metrics', { headers: auth });

      // the admin error paths (tests 23-26), with canaries in what the client sends
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: `{"names": [${dynamicC.value}]}` });
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: `{"names": ["${dynamicC.value}`.padEnd(20_000, ' ') });
      await call('/admin/refresh', { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: dynamicC.value });
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["SIGNING_KEY"]}' });
      // an unknown name is named back in the 404 (plan 25) when it has a name's shape; a value pasted as a name has not
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: JSON.stringify({ names: [`${dynamicC.value} x`, dynamicC.value] }) });
      await call('/admin/refresh', { method: 'POST', headers: jsonAuth, body: '{"names":["NOT_DECLARED"]}' });
      await call('/admin/status', { headers: { authorization: `Basic ${Buffer.from(`admin:${tokenC.value}`).toString('base64')}` } }, '10.9.9.9');
      await call('/admin/status', { headers: { authorization: `Bearer ${tokenC.value.slice(0, -1)}` } }, '10.9.9.9');
      await call('/admin/status', { headers: { authorization: `Bearer ${tokenC.value.repeat(400)}` } }, '10.9.9.9');
      for (let i = 0; i < 5; i++) await call('/admin/status', { headers: { authorization: `Bearer ${dynamicC.value}` } }, '10.9.9.9');
      await Promise.all(Array.from({ length: 50 }, () => call('/admin/refresh', { method: 'POST', headers: auth })));
      await handler.alerts.idle();
    } finally {
      await capture.catching('pool.end', () => pool?.end());
      await capture.catching('handler.close', () => handler.close());
      await capture.catching('close', () => ks.close());
      await capture.catching('close again', () => ks.close());
    }

    // the CLI without --reveal over a local store holding the canaries
    const dir = await mkdtemp(join(tmpdir(), 'ks-canary-cli-'));
    try {
      const env = { PATH: process.env.PATH, HOME: process.env.HOME, KEYSHIFT_MASTER_KEY: generateMasterKey() };
      const store = join(dir, 'store');
      const cli = async (argv: string[], stdin?: string, label = argv.join(' ')) => {
        const r = await runInProcess([...argv, '--store', store], { env, cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
        capture.add(`cli ${label}`, `${r.stdout}\n${r.stderr}`);
        return r;
      };
      assert.equal((await cli(['put', 'API_KEY'], dynamicC.value)).code, 0);
      assert.equal((await cli(['put', 'DB_PASSWORD', '--json'], dbC.value)).code, 0);
      for (const argv of [['get', 'API_KEY'], ['get', 'API_KEY', '--json'], ['get', 'DB_PASSWORD', '--version', '1'], ['versions', 'API_KEY'], ['versions', 'API_KEY', '--json'], ['list'], ['list', '--json'], ['get', 'NOPE']]) {
        await cli(argv);
      }
      await cli(['put', 'API_KEY', '--if-latest', '7'], dynamicC.value);
      // issue 12.3: a value pasted as an alias, an option, a name or the command, in any case
      const d = dynamicC.value;
      for (const [label, argv] of [
        ['get NAME --version VALUE', ['get', 'API_KEY', '--version', d]],
        ['get NAME --version=VALUE', ['get', 'API_KEY', `--version=${d}`]],
        ['get NAME --VALUE', ['get', 'API_KEY', `--${d}`]],
        ['get VALUE', ['get', d]],
        ['get UPPER-CASE VALUE', ['get', d.toUpperCase()]],
        ['versions VALUE', ['versions', d]],
        ['disable NAME VALUE', ['disable', 'API_KEY', d]],
        ['VALUE as the command', [d]],
      ] as const) {
        const r = await cli([...argv], undefined, label);
        assert.ok(r.code === 2 || r.code === 3, `${label}: exit ${r.code}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    capture.stop();

    // the sweep reached every path it claims to
    const places = Object.keys(capture.summary());
    for (const place of ['cli get VALUE', 'cli VALUE as the command', 'cli get NAME --VALUE', 'cli get NAME --version VALUE', 'pino', 'pino-redact', 'audit', 'alert', 'events.change', 'events.rejected', 'events.error', 'events.stale', 'keyring', 'pool', 'thrown get past maxStale', 'thrown pool.query (refused)', 'admin GET /admin/dashboard', 'admin GET /metrics', 'cli get API_KEY']) {
      assert.ok(places.includes(place), `the sweep never captured ${place} (saw ${places.join(', ')})`);
    }
    for (const status of [200, 302, 400, 401, 403, 404, 409, 413, 415, 429, 431]) assert.ok(statuses.has(status), `no admin response with status ${status}`);
    assert.deepEqual(capture.leaks(canaries), {});
    await assertBackToBaseline(baseline);
  });
});

describe('Plan 29: metrics and status', () => {
  it('label values only from the declared sets and a constant series count under faults and rejections; status has no value, length or hash; URLs lose their userinfo', async () => {
    const password = makeCanary('u');
    const apiKey = makeCanary('k');
    const clock = createFakeClock();
    const source = memorySource({ values: { API_KEY: apiKey.value, LIMIT: '10', UPSTREAM_URL: `https://svc:${encodeURIComponent(password.value)}@upstream.example.test:8443/p` } });
    const ks = createKeyshift(
      defineSecrets({
        API_KEY: { type: t.string(), category: 'api-key' },
        LIMIT: { type: t.int(), category: 'app-config' },
        UPSTREAM_URL: { type: t.url({ allowCredentials: true }), category: 'service-url' },
      }),
      { source, clock, name: 'svc', logger: false, random: () => 0.5 },
    );
    await ks.ready();
    const handler = await createAdminHandler({ managers: ks, token: 'metrics-admin-token-0123456789abcdef', clock, auditLog: () => {}, alerts: { logger: false } });
    // a notification path, its state changing with the faults (labels: the watched name and the four states)
    const health = new NotificationHealth({ clock });
    const pullCounters = { messages: 0, heartbeatsSent: 0, heartbeatsBack: 0, errors: 0 };
    handler.alerts.watchNotifications('svc', { health, status: () => pullCounters });
    const auth = { authorization: 'Bearer metrics-admin-token-0123456789abcdef' };
    const scrape = async (path: string) => (await handler(new Request(`http://admin.test${path}`, { headers: auth }), { clientAddress: '10.0.0.1' })).text();
    const series = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const cycle = async (round: number) => {
      pullCounters.messages++;
      if (round % 3 === 2) {
        pullCounters.errors++;
        health.fail(new KeyshiftError(ErrorCodes.NOTIFICATIONS_UNAVAILABLE, `subscription failed in round ${round}`));
      } else health.beat();
      source.set('LIMIT', `bad-${round}`); // test 19: a rejection
      await clock.tick(1_100);
      await ks.refresh('LIMIT');
      source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE }); // test 1: an outage
      await clock.tick(1_100);
      await ks.refresh(['API_KEY', 'UPSTREAM_URL']);
      source.fail(undefined);
      source.set('LIMIT', String(round));
      await clock.tick(1_100);
      await ks.refresh();
      await handler(new Request('http://admin.test/admin/refresh', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: `{"names":["NOPE_${round}"]}` }), { clientAddress: `10.0.${round}.1` });
    };
    try {
      for (let round = 0; round < 10; round++) await cycle(round); // every outcome and trigger seen once
      await scrape('/admin/status');
      await scrape('/metrics'); // a scrape counts itself from the next one on
      const first = series(await scrape('/metrics'));
      for (let round = 10; round < 40; round++) await cycle(round);
      await scrape('/admin/status');
      const text = await scrape('/metrics');
      const later = series(text);
      assert.equal(later.length, first.length, 'the series count grew with load');
      assert.equal(later.filter((l) => l.startsWith('keyshift_notifications_state{manager="svc"')).length, 4, 'one series per state');
      const allowed = new Set(['svc', 'API_KEY', 'LIMIT', 'UPSTREAM_URL', 'api-key', 'app-config', 'service-url', 'memory', 'changed', 'unchanged', 'rejected', 'not-found', 'error', 'startup', 'ttl', 'retry', 'push', 'admin', 'manual', 'recheck', 'warning', 'critical', 'slow-fetch', 'failing', 'stale-exceeded', 'status', 'metrics', 'refresh', '200', '404', 'notifications-quiet', 'unknown', 'healthy', 'quiet', 'down', ...Object.values(ErrorCodes)]);
      for (const m of text.matchAll(/(\w+)="([^"]*)"/g)) {
        if (m[1] !== 'le') assert.ok(allowed.has(m[2] as string), `label ${m[1]}="${m[2]}" is not from a declared set`);
      }

      const status = await scrape('/admin/status');
      const digests = [apiKey, password].flatMap((c) => ['sha256', 'sha1', 'md5'].flatMap((alg) => [createHash(alg).update(c.value).digest('hex'), createHash(alg).update(c.value).digest('base64')]));
      for (const text of [status, JSON.stringify(ks.status())]) {
        assert.equal(hits(text, [apiKey, password]), 0);
        for (const digest of digests) assert.equal(text.includes(digest), false, 'an unkeyed hash of a value');
        assert.equal(text.includes(apiKey.value.slice(0, 6)), false, 'a prefix of a value');
        assert.doesNotMatch(text, /"(length|size|bytes|hash|sha\w*|digest|prefix|value)"\s*:/i);
      }
      const url = ks.status().entries.find((e) => e.name === 'UPSTREAM_URL');
      assert.equal(url?.display, 'https://upstream.example.test:8443');
      assert.equal(text.includes('svc:'), false);
    } finally {
      health.close();
      await handler.close();
      await ks.close();
    }
  });
});

describe('Plan 30: third-party objects', () => {
  for (const make of [gcpStore, awsStore]) {
    it(`${make.name}: the client keyshift holds, inspected after serving and failing, shows no value; errors from the client are re-wrapped without request data`, async () => {
      const canary = makeCanary('g');
      const store: FaultyStore = await make();
      try {
        await store.set('DB_PASSWORD', canary.value);
        const source = store.source();
        const ks = createKeyshift(defineSecrets({ DB_PASSWORD: { type: t.string(), category: 'database-credential' } }), { source, logger: false, fetchTimeoutMs: 1_000, minRefreshIntervalMs: 0 });
        await ks.ready();
        assert.equal(ks.get('DB_PASSWORD').reveal(), canary.value);
        const seen: string[] = [];
        ks.on('error', (e) => void seen.push(everythingOf(e.error)));
        for (const fault of ['denied', 'unavailable', 'throttled'] as const) {
          store.fail(fault);
          // A background retry of the previous fault can be in flight; a refresh then joins it (coalesced) and
          // carries that fetch's answer, so ask again until this fault's own fetch answers.
          let r: Awaited<ReturnType<typeof ks.refresh>>[number] | undefined;
          for (let attempt = 0; attempt < 20 && (r === undefined || (r.coalesced === true && !r.error)); attempt++) {
            if (r !== undefined) await new Promise((resolve) => setTimeout(resolve, 100));
            [r] = await ks.refresh('DB_PASSWORD', { trigger: 'manual' });
          }
          assert.ok(r?.error, `${fault} surfaced as an error`);
          seen.push(everythingOf(r?.error));
          store.clear();
        }
        seen.push(inspect(source, { showHidden: true, depth: 6 }), inspect(ks, { showHidden: true, depth: 6 }));
        await ks.close();
        assert.ok(seen.length >= 5);
        assert.equal(hits(seen.join('\n'), [canary]), 0);
        for (const text of seen) assert.doesNotMatch(text, /\$response|\$metadata.*requestId|hardening-fake-secret-key/);
      } finally {
        await store.close();
      }
    });
  }
});
