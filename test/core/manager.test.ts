import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createKeyshift, defineSecrets, ErrorCodes, type KeyshiftError, Secret, StaleSecretError, t } from '../../src/index.ts';
import { createFakeClock, flush, memorySource } from '../../src/testing/index.ts';

const half = () => 0.5; // jitter factor exactly 1: schedules are exact

function setup(values: Record<string, string> = { API_KEY: 'k1', SERVICE_URL: 'https://a.example/x', FEE: '1.5' }) {
  const clock = createFakeClock();
  const source = memorySource({ values });
  const decl = defineSecrets({
    API_KEY: { type: t.string(), category: 'api-key', ttlMs: 60_000 },
    SERVICE_URL: { type: t.url(), category: 'service-url' },
    FEE: { type: t.decimal(), category: 'app-config', maxStaleMs: 120_000, onStale: 'fail-closed' },
    SIGNING: { type: t.string({ minLength: 1 }), category: 'signing-key', static: true, key: 'API_KEY' },
  });
  const ks = createKeyshift(decl, { source, clock, random: half, logger: false });
  return { clock, source, ks };
}

describe('Manager: ready()', () => {
  it('loads static and dynamic entries; static values are plain properties, dynamic reads are synchronous', async () => {
    const { ks } = setup();
    assert.throws(() => ks.get('API_KEY'), { code: ErrorCodes.NOT_READY });
    assert.throws(() => ks.static, { code: ErrorCodes.NOT_READY });
    await ks.ready();
    assert.ok(ks.get('API_KEY') instanceof Secret);
    assert.equal(ks.get('API_KEY').reveal(), 'k1');
    assert.equal(ks.get('SERVICE_URL'), 'https://a.example/x');
    assert.equal(ks.get('FEE').toString(), '1.5');
    assert.equal(ks.static.SIGNING.reveal(), 'k1');
    assert.ok(Object.isFrozen(ks.static));
    await ks.close();
  });

  it('refuses reads of unknown names and dynamic reads of static entries, naming them', async () => {
    const { ks } = setup();
    await ks.ready();
    const untyped = ks as unknown as { get(n: string): unknown };
    assert.throws(() => untyped.get('NOPE'), (e: KeyshiftError) => e.code === ErrorCodes.UNKNOWN_ENTRY && e.message.includes('NOPE'));
    assert.throws(() => untyped.get('SIGNING'), (e: KeyshiftError) => e.code === ErrorCodes.WRONG_KIND && e.message.includes('.static.SIGNING'));
    await assert.rejects(ks.refresh('SIGNING' as never), { code: ErrorCodes.WRONG_KIND });
    await ks.close();
  });

  it('never quotes a value passed where a name goes (get, refresh, reportFailure), and still names a mistyped name', async () => {
    const { ks } = setup();
    await ks.ready();
    const untyped = ks as unknown as { get(n: string): unknown; refresh(n: string): Promise<unknown>; reportFailure(n: string): unknown };
    const value = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'; // a token-shaped value, pasted as a name
    const seen: string[] = [];
    const record = (e: unknown): true => {
      const error = e as KeyshiftError;
      assert.equal(error.code, ErrorCodes.UNKNOWN_ENTRY);
      seen.push(error.message, String(error.stack), JSON.stringify(error), inspect(error, { showHidden: true }));
      return true;
    };
    for (const name of [value, value.toUpperCase(), `${value}\n`, value.slice(8)]) {
      assert.throws(() => untyped.get(name), record);
      await assert.rejects(untyped.refresh(name), record);
      assert.throws(() => untyped.reportFailure(name), record);
    }
    const text = seen.join('\n');
    assert.match(text, /withheld: it does not read like a name/);
    assert.equal(text.toLowerCase().includes(value.slice(8, 16).toLowerCase()), false, 'the value, or part of it, is in the error');
    // a mistyped name reads like a name and is still named, in any of the usual styles
    for (const name of ['API_KYE', 'NOPE', 'apiKey', 'api-key', 'S3_BUCKET', 'KEY_V2']) {
      assert.throws(() => untyped.get(name), (e: KeyshiftError) => e.message.includes(JSON.stringify(name)));
    }
    await ks.close();
  });

  it('fails fast with a clear error naming the entry when a required entry is missing', async () => {
    const { ks } = setup({ API_KEY: 'k1', SERVICE_URL: 'https://a.example' });
    await assert.rejects(ks.ready(), (e: KeyshiftError) => e.code === ErrorCodes.SOURCE_NOT_FOUND && /FEE/.test(e.message) && /memory/.test(e.message));
    await ks.close();
  });

  it('rejects a malformed value at ready() with the entry, type and rule, without the value', async () => {
    const { ks } = setup({ API_KEY: 'k1', SERVICE_URL: 'javascript:alert(1)', FEE: '1' });
    await assert.rejects(ks.ready(), (e: KeyshiftError) => {
      assert.equal(e.code, ErrorCodes.VALUE_REJECTED);
      assert.match(e.message, /SERVICE_URL \(url\)/);
      assert.doesNotMatch(e.message, /alert/);
      return true;
    });
    await ks.close();
  });

  it('retries transient failures with backoff during startup and succeeds once the store recovers', async () => {
    const clock = createFakeClock();
    const source = memorySource({ values: { A: 'a' } });
    source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    const ks = createKeyshift(defineSecrets({ A: { type: t.string() } }), { source, clock, random: half, logger: false });
    const ready = ks.ready();
    await flush();
    source.fail(undefined);
    await clock.tick(1_000);
    await ready;
    assert.equal(ks.get('A'), 'a');
    assert.equal(source.totalCalls, 2);
    await ks.close();
  });

  it('times out a hung startup, naming the entries still pending', async () => {
    const clock = createFakeClock();
    const source = memorySource({ values: { A: 'a', B: 'b' } });
    source.fail('hang');
    const ks = createKeyshift(defineSecrets({ A: { type: t.string() }, B: { type: t.string() } }), {
      source,
      clock,
      random: half,
      logger: false,
      startupTimeoutMs: 2_000,
      fetchTimeoutMs: 10_000,
    });
    const ready = ks.ready();
    const check = assert.rejects(ready, (e: KeyshiftError) => e.code === ErrorCodes.STARTUP_TIMEOUT && /A, B/.test(e.message));
    await clock.tick(2_000);
    await check;
    await ks.close();
  });

  it('Plan 17: loads 77 entries with bounded concurrency (all 77 in one round under the default bound of 96, 16 when asked)', async () => {
    const values: Record<string, string> = {};
    const decl: Record<string, { type: ReturnType<typeof t.string> }> = {};
    for (let i = 0; i < 77; i++) {
      values[`S${i}`] = `v${i}`;
      decl[`S${i}`] = { type: t.string() };
    }
    let inFlight = 0;
    let peak = 0;
    const base = memorySource({ values });
    const source = {
      kind: 'counting',
      async get(name: string, opts: { signal: AbortSignal; maxBytes: number }) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        return base.get(name, opts);
      },
    };
    const ks = createKeyshift(defineSecrets(decl), { source, logger: false });
    await ks.ready();
    assert.equal(peak, 77);
    assert.equal(base.totalCalls, 77);
    await ks.close();
    peak = 0;
    const ks16 = createKeyshift(defineSecrets(decl), { source, logger: false, startupConcurrency: 16 });
    await ks16.ready();
    assert.equal(peak, 16);
    await ks16.close();
  });
  it('uses the source batch read at startup and falls back to get() for the names it left out', async () => {
    const inner = memorySource({ values: { A: 'a', B: 'b', C: 'c' } });
    const batches: string[][] = [];
    const source = {
      kind: 'batching',
      get: inner.get.bind(inner),
      async getMany(names: readonly string[]) {
        batches.push([...names]);
        return new Map([
          ['A', { value: 'a', version: '1' }],
          ['B', undefined],
        ]);
      },
    };
    const decl = defineSecrets({ A: { type: t.string() }, B: { type: t.string(), optional: true }, C: { type: t.string() } });
    const ks = createKeyshift(decl, { source, logger: false });
    await ks.ready();
    assert.deepEqual(batches, [['A', 'B', 'C']]);
    assert.deepEqual([...inner.calls.keys()], ['C']);
    assert.equal(ks.get('A'), 'a');
    assert.equal(ks.get('B'), null);
    assert.equal(ks.get('C'), 'c');
    await ks.close();
  });
});

describe('Manager: freshness', () => {
  it('applies a pushed change at once and emits change with its trigger', async () => {
    const { ks, source } = setup();
    await ks.ready();
    const changes: string[] = [];
    ks.on('change', (e) => changes.push(`${e.name}@${e.version}:${e.trigger}`));
    source.set('SERVICE_URL', 'https://b.example/');
    await flush();
    assert.equal(ks.get('SERVICE_URL'), 'https://b.example/');
    assert.deepEqual(changes, ['SERVICE_URL@4:push']);
    await ks.close();
  });

  it('refreshes on the TTL in the background when the source cannot push', async () => {
    const clock = createFakeClock();
    const inner = memorySource({ values: { A: 'a1' } });
    const source = { kind: 'poll-only', get: inner.get.bind(inner) };
    const ks = createKeyshift(defineSecrets({ A: { type: t.string(), ttlMs: 10_000 } }), { source, clock, random: half, logger: false });
    await ks.ready();
    const changes: string[] = [];
    ks.on('change', (e) => changes.push(`${e.version}:${e.trigger}`));
    inner.set('A', 'a2');
    await clock.tick(4_999); // the first refresh is spread over the TTL: at half of it with random() = 0.5
    assert.equal(ks.get('A'), 'a1');
    await clock.tick(1);
    assert.equal(ks.get('A'), 'a2');
    inner.set('A', 'a3');
    await clock.tick(9_999); // then one TTL apart
    assert.equal(ks.get('A'), 'a2');
    await clock.tick(1);
    assert.equal(ks.get('A'), 'a3');
    assert.deepEqual(changes, ['2:ttl', '3:ttl']);
    await ks.close();
  });

  it('keeps the last-known-good value through failures and retries on the exact backoff schedule', async () => {
    const { ks, clock, source } = setup();
    await ks.ready();
    const attempts: number[] = [];
    ks.on('fetch', (e) => {
      if (e.name === 'API_KEY') attempts.push(clock.now());
    });
    source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    // the first refresh is spread over the TTL (30 s of 60 s with random() = 0.5), then the backoff steps
    await clock.tick(30_000 + 1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 30_000 + 30_000);
    assert.deepEqual(attempts, [30_000, 31_000, 33_000, 37_000, 45_000, 61_000, 91_000, 121_000]);
    assert.equal(ks.get('API_KEY').reveal(), 'k1');
    const status = ks.status().entries.find((e) => e.name === 'API_KEY');
    assert.equal(status?.stale, true);
    assert.equal(status?.lastError?.code, ErrorCodes.SOURCE_UNAVAILABLE);
    source.fail(undefined);
    source.set('API_KEY', 'k2');
    await clock.tick(30_000);
    assert.equal(ks.get('API_KEY').reveal(), 'k2');
    assert.equal(ks.status().entries.find((e) => e.name === 'API_KEY')?.stale, false);
    await ks.close();
  });

  it('honours a retry-after hint longer than the backoff step', async () => {
    const { ks, clock, source } = setup();
    await ks.ready();
    const attempts: number[] = [];
    ks.on('fetch', (e) => e.name === 'API_KEY' && attempts.push(clock.now()));
    source.fail({ code: ErrorCodes.SOURCE_THROTTLED, retryAfterMs: 5_000 });
    await clock.tick(30_000 + 5_000 + 5_000); // the first refresh at 30 s (spread over the 60 s TTL), then the hint
    assert.deepEqual(attempts, [30_000, 35_000, 40_000]);
    await ks.close();
  });

  it('fails closed past maxStaleMs for a fail-closed entry, and recovers with the store', async () => {
    const { ks, clock, source } = setup();
    await ks.ready();
    const stale: Array<{ exceeded: boolean; failClosed: boolean }> = [];
    ks.on('stale', (e) => e.name === 'FEE' && stale.push({ exceeded: e.exceeded, failClosed: e.failClosed }));
    source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    await clock.tick(60_000); // first failing refresh of FEE (TTL 1 min, the first one spread over it)
    assert.equal(ks.get('FEE').toString(), '1.5');
    await clock.tick(60_000); // now 120 s since the last success: the bound
    assert.throws(() => ks.get('FEE'), (e: unknown) => e instanceof StaleSecretError && !/1\.5/.test(e.message));
    assert.equal(ks.get('API_KEY').reveal(), 'k1'); // serve-stale entries keep serving
    assert.deepEqual(stale, [
      { exceeded: false, failClosed: false },
      { exceeded: true, failClosed: true },
    ]);
    source.fail(undefined);
    await clock.tick(30_000);
    assert.equal(ks.get('FEE').toString(), '1.5');
    await ks.close();
  });

  it('rejects a bad new version: the old value stays, one rejected event and no repeat for the same version', async () => {
    const { ks, clock, source } = setup();
    await ks.ready();
    const rejected: string[] = [];
    ks.on('rejected', (e) => rejected.push(`${e.name}@${e.version}:${e.reason}`));
    source.set('FEE', '0.1.2');
    await flush();
    await clock.tick(60_000 * 3);
    assert.equal(ks.get('FEE').toString(), '1.5');
    assert.deepEqual(rejected, ['FEE@4:is not a plain decimal number']);
    await ks.close();
  });

  it('treats a value the source itself refuses (KS_ERR_VALUE_REJECTED) as a rejected version, not an outage', async () => {
    const { ks, clock, source } = setup();
    await ks.ready();
    const events: string[] = [];
    ks.on('rejected', (e) => events.push(`rejected:${e.name}`));
    ks.on('error', (e) => events.push(`error:${e.name}`));
    source.fail({ code: ErrorCodes.VALUE_REJECTED });
    await clock.tick(60_000);
    assert.ok(events.includes('rejected:API_KEY'));
    assert.deepEqual(events.filter((e) => e.startsWith('error:')), []);
    assert.equal(ks.status().entries.find((e) => e.name === 'API_KEY')?.consecutiveFailures, 0);
    assert.equal(ks.get('API_KEY').reveal(), 'k1');
    await ks.close();
  });

  it('makes one store call for 1,000 concurrent forced refreshes (single-flight)', async () => {
    const { ks, source } = setup();
    await ks.ready();
    const before = source.calls.get('API_KEY') ?? 0;
    source.set('API_KEY', 'k2');
    const results = await Promise.all(Array.from({ length: 1_000 }, () => ks.refresh('API_KEY', { trigger: 'admin' })));
    const after = source.calls.get('API_KEY') ?? 0;
    // the push from set() and the 1,000 refreshes share one fetch; one trailing fetch is armed
    assert.equal(after - before, 1);
    assert.ok(results.every(([r]) => r?.version === '4'));
    await ks.close();
  });

  it('coalesces a flood of forced refreshes to one fetch per minimum interval plus one trailing fetch', async () => {
    const { ks, clock, source } = setup();
    await ks.ready();
    const before = source.calls.get('API_KEY') ?? 0;
    for (let i = 0; i < 100; i++) {
      const [r] = await ks.refresh('API_KEY', { trigger: 'admin' });
      assert.equal(r?.coalesced, i > 0);
      await clock.tick(5);
    }
    await clock.tick(1_000);
    assert.equal((source.calls.get('API_KEY') ?? 0) - before, 2);
    await ks.close();
  });

  it('re-checks a push that arrives before the store serves the new version, a bounded number of times', async () => {
    const clock = createFakeClock();
    let version = 1;
    const watchers: Array<(names?: readonly string[]) => void> = [];
    let calls = 0;
    const source = {
      kind: 'lagging',
      async get() {
        calls++;
        return { value: `v${version}`, version: String(version) };
      },
      watch(fn: (names?: readonly string[]) => void) {
        watchers.push(fn);
        return () => {};
      },
    };
    const ks = createKeyshift(defineSecrets({ A: { type: t.string(), ttlMs: 3_600_000 } }), { source, clock, random: half, logger: false });
    await ks.ready();
    for (const w of watchers) w(['A']); // push before replication
    await flush();
    await clock.tick(500);
    version = 2; // the store catches up
    await clock.tick(1_500);
    assert.equal(ks.get('A'), 'v2');
    const settled = calls;
    await clock.tick(10_000);
    assert.equal(calls, settled, 'no further re-checks once the new version is served');
    assert.ok(calls <= 1 + 3 + 1);
    await ks.close();
  });
});

describe('Manager: request snapshots', () => {
  it('pins one view for a whole request across awaits while values change underneath', async () => {
    const { ks, source } = setup();
    await ks.ready();
    const seen = await ks.run(async () => {
      const first = ks.get('SERVICE_URL');
      source.set('SERVICE_URL', 'https://b.example/');
      await new Promise((r) => setTimeout(r, 5));
      await flush();
      return [first, ks.get('SERVICE_URL')];
    });
    assert.deepEqual(seen, ['https://a.example/x', 'https://a.example/x']);
    assert.equal(ks.get('SERVICE_URL'), 'https://b.example/');
    await ks.close();
  });

  it('snapshot() reads an optional entry that is absent as null, as get() and run() do', async () => {
    const source = memorySource({ values: { B: 'b' } });
    const ks = createKeyshift(defineSecrets({ A: { type: t.string(), optional: true }, B: { type: t.string() } }), { source, logger: false });
    await ks.ready();
    const frozen = ks.snapshot();
    assert.equal(ks.get('A'), null);
    assert.equal(frozen.get('A'), null);
    assert.equal(ks.run(() => ks.get('A')), null);
    source.set('A', 'a');
    await ks.refresh('A');
    assert.equal(frozen.get('A'), null, 'the snapshot is frozen');
    assert.equal(ks.snapshot().get('A'), 'a');
    assert.throws(() => frozen.get('NOPE' as 'A'), { code: ErrorCodes.UNKNOWN_ENTRY });
    await ks.close();
  });
});

describe('Manager: isolation and close()', () => {
  it('reports a throwing listener as an error event and keeps calling the others', async () => {
    const { ks, source } = setup();
    await ks.ready();
    const errors: string[] = [];
    let second = 0;
    ks.on('error', (e) => errors.push(e.error.code));
    ks.on('change', () => {
      throw new Error('listener bug');
    });
    ks.on('change', () => {
      second++;
    });
    source.set('API_KEY', 'k2');
    await flush();
    assert.equal(second, 1);
    assert.deepEqual(errors, [ErrorCodes.INTERNAL]);
    await ks.close();
  });

  it('abandons a hung store at the per-call deadline', async () => {
    const { ks, clock, source } = setup();
    await ks.ready();
    source.fail('hang');
    const refresh = ks.refresh('API_KEY');
    await clock.tick(3_000);
    const [r] = await refresh;
    assert.equal(r?.error?.code, ErrorCodes.SOURCE_TIMEOUT);
    assert.equal(ks.get('API_KEY').reveal(), 'k1');
    await ks.close();
  });

  it('close() clears every timer, settles in-flight calls, silences events, and is idempotent', async () => {
    const { ks, clock, source } = setup();
    await ks.ready();
    assert.ok(clock.pending > 0);
    source.fail('hang');
    const refresh = ks.refresh('API_KEY');
    let changes = 0;
    ks.on('change', () => changes++);
    await ks.close();
    await refresh;
    await ks.close();
    assert.equal(clock.pending, 0);
    source.fail(undefined);
    source.set('API_KEY', 'k3');
    await flush();
    assert.equal(changes, 0);
    await assert.rejects(ks.refresh(), { code: ErrorCodes.CLOSED });
    await assert.rejects(ks.ready(), { code: ErrorCodes.CLOSED });
    assert.equal(ks.get('API_KEY').reveal(), 'k1', 'reads after close() keep the last value (docs/core.md)');
  });

  it('refuses a declaration that breaks the policy at declaration time, naming entry and rule', () => {
    assert.throws(
      () => defineSecrets({ HOST_WALLET_PRIVATE_KEY: { type: t.string() } }),
      (e: KeyshiftError) => e.code === ErrorCodes.POLICY && /HOST_WALLET_PRIVATE_KEY/.test(e.message) && /private-key-static/.test(e.message),
    );
    assert.throws(() => defineSecrets({ X: { type: t.string(), ttlMs: -1 } }), { code: ErrorCodes.INVALID_DECLARATION });
    assert.throws(() => defineSecrets({ 'bad name': { type: t.string() } }), { code: ErrorCodes.INVALID_DECLARATION });
  });

  it('refuses a typo or a wrong type in an entry (from JavaScript, or past the types) naming the entry and the field', () => {
    const refused = (entry: unknown, message: RegExp): void => {
      const declaration = { PAYMENTS_URL: entry } as unknown as Parameters<typeof defineSecrets>[0];
      for (const declare of [() => defineSecrets(declaration), () => createKeyshift(declaration, { source: memorySource(), logger: false })]) {
        assert.throws(declare, (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION && e.entry === 'PAYMENTS_URL' && message.test(e.message));
      }
    };
    refused({ type: t.url(), catgory: 'service-url' }, /^entry PAYMENTS_URL: unknown field "catgory" \(the fields are type, static, category/);
    refused({ type: t.url(), ttl: 5_000, maxStale: 1 }, /unknown field "ttl", "maxStale"/);
    refused({ type: t.url(), static: 'yes' }, /static must be true or false/);
    refused({ type: t.url(), optional: 1 }, /optional must be true or false/);
    refused({ type: t.url(), secret: 'false' }, /secret must be true or false/);
    refused({ type: t.url(), rotation: 'pg' }, /rotation must be 'keyring' or 'pg-pool'/);
    refused({ type: t.url(), validate: (v: string) => v.length > 0 }, /validate must be a Standard Schema validator/);
    refused({ type: t.url(), description: 42 }, /description must be a string/);
    // every documented field is still accepted
    const ok = { type: t.url(), static: false, category: 'service-url', key: 'URL', ttlMs: 1, maxStaleMs: 1, onStale: 'fail-closed', optional: true, secret: false, description: 'd', overlapMs: 1, devDefault: 'https://x.example/', adoption: false } as const;
    assert.doesNotThrow(() => defineSecrets({ PAYMENTS_URL: ok }));
  });

  it('refresh() refuses a trigger outside the closed set (it becomes a metric label and an event field), naming none of it', async () => {
    const { ks } = setup();
    await ks.ready();
    const loose = (trigger: string) => ({ trigger }) as { trigger: 'admin' };
    await assert.rejects(ks.refresh('API_KEY', loose('sk-live-pasted-by-mistake')), (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION && /^refresh\(\): trigger must be one of startup, ttl/.test(e.message) && !e.message.includes('sk-live'));
    const [r] = await ks.refresh('API_KEY', { trigger: 'admin' });
    assert.equal(r?.name, 'API_KEY');
    await ks.close();
  });

  it('on() refuses an event name it does not know (a typo would never fire) and a listener that is not a function', () => {
    const { ks } = setup();
    const loose = (event: string) => event as 'change';
    assert.throws(() => ks.on(loose('changed'), () => {}), {
      code: ErrorCodes.INVALID_DECLARATION,
      message: /^on\(\): unknown event "changed" \(the events are fetch, change, out-of-order/,
    });
    assert.throws(() => ks.on('change', 'log' as unknown as () => void), { code: ErrorCodes.INVALID_DECLARATION, message: /listener must be a function/ });
    const dispose = ks.on('change', () => {});
    dispose();
  });

  it('refuses a typo or a wrong type in the options at createKeyshift(), naming the option', () => {
    const decl = defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } });
    const refused = (options: Record<string, unknown>, message: RegExp): void => {
      const full = { source: memorySource({ values: { API_KEY: 'sk-canary-value' } }), logger: false, ...options };
      assert.throws(
        () => createKeyshift(decl, full as unknown as Parameters<typeof createKeyshift>[1]),
        (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION && message.test(e.message) && !e.message.includes('sk-canary'),
      );
    };
    refused({ startupTimeout: 5_000 }, /^createKeyshift\(\): unknown option "startupTimeout" \(the options are source, name, logger/);
    refused({ fetchTimeoutMs: '3000' }, /fetchTimeoutMs must be a positive number/);
    refused({ fetchTimeoutMs: 0 }, /fetchTimeoutMs must be a positive number/);
    refused({ startupTimeoutMs: Number.NaN }, /startupTimeoutMs must be a positive number/);
    refused({ startupConcurrency: 2.5 }, /startupConcurrency must be a positive whole number/);
    refused({ minStartupFailureMs: -1 }, /minStartupFailureMs must be a number of 0 or more/);
    refused({ ttlJitter: 5 }, /ttlJitter must be a number from 0 to less than 1/);
    refused({ minRefreshIntervalMs: -1 }, /minRefreshIntervalMs must be a number of 0 or more/);
    refused({ maxValueBytes: 0 }, /maxValueBytes must be a positive whole number/);
    refused({ backoff: { initialMs: -5 } }, /backoff\.initialMs must be a positive number/);
    refused({ backoff: { initial: 5 } }, /unknown backoff field "initial"/);
    refused({ backoff: { factor: 0.5 } }, /backoff\.factor must be a number of 1 or more/);
    refused({ logger: 'yes' }, /logger must be a pino-compatible logger/);
    refused({ logger: true }, /logger must be a pino-compatible logger/);
    refused({ name: 42 }, /name must be a non-empty string/);
    refused({ policy: {} }, /policy must be an array/);
    refused({ clock: {} }, /clock must have now\(\)/);
    refused({ random: 0.5 }, /random must be a function/);
    refused({ freshness: 'request' }, /freshness must be 'timers' or 'requests'/);
    refused({ instanceId: '' }, /instanceId must be a non-empty string/);
    assert.throws(() => createKeyshift(null as unknown as typeof decl, { source: memorySource() }), { code: ErrorCodes.INVALID_DECLARATION });
    assert.throws(() => createKeyshift(decl, undefined as unknown as Parameters<typeof createKeyshift>[1]), {
      code: ErrorCodes.INVALID_DECLARATION,
      message: /needs options\.source/,
    });
    // every documented option is still accepted, at its edge
    const ks = createKeyshift(decl, {
      source: memorySource(),
      name: 'svc',
      logger: false,
      policy: [],
      fetchTimeoutMs: 1,
      startupTimeoutMs: 1,
      startupConcurrency: 1,
      minStartupFailureMs: 0,
      backoff: { initialMs: 1, factor: 1, maxMs: 1, jitter: 0 },
      ttlJitter: 0,
      minRefreshIntervalMs: 0,
      maxValueBytes: 1,
      clock: createFakeClock(),
      random: half,
      freshness: 'requests',
      instanceId: 'i-1',
    });
    assert.equal(ks.name, 'svc');
  });
});
