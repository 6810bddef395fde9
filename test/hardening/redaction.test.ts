/**
 * Issue 12 section 3: the three ways a value leaked into a rejection's message (a JSON
 * object key in a validator's issue path, a URL whose scheme is the value, a validator
 * echoing the value in another case or in part), each checked on all six surfaces a
 * rejection reaches: the default logger (stderr), the `rejected` event, its diagnostics
 * channel, status().lastError, GET /admin/status with its alert reason, and the error
 * ready() throws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import { createAdminHandler } from '../../src/admin/index.ts';
import { WITHHELD } from '../../src/core/_screen.ts';
import { channels } from '../../src/core/diagnostics.ts';
import { inspect } from 'node:util';
import { type Codec, createKeyshift, defineSecrets, ErrorCodes, KeyshiftError, t } from '../../src/index.ts';
import { createFakeClock, flush, memorySource } from '../../src/testing/index.ts';
import { Capture, type Canary, everythingOf, makeCanary } from './_canary.ts';

/** Passes "ok"; fails anything else with whatever `say` makes of it (some validators echo their input). */
function echoing(say: (input: string) => string): StandardSchemaV1<string, string> {
  return {
    '~standard': {
      version: 1,
      vendor: 'echo-test',
      validate: (input: unknown) => (input === 'ok' ? { value: 'ok' } : { issues: [{ message: say(String(input)) }] }),
    },
  };
}

interface Case {
  name: string;
  type: Codec<unknown>;
  validate?: StandardSchemaV1<never, never>;
  good: string;
  bad: (c: Canary) => string;
  /** What the screened reason must say (value-free). */
  reason: RegExp;
}

const TOKEN = 'redaction-admin-token-0123456789abcdef';

const cases: Case[] = [
  {
    name: 'a JSON secret whose value is an object key (zod record)',
    type: t.json(z.record(z.string(), z.number())),
    good: '{"tenant":1}',
    bad: (c) => JSON.stringify({ tenant: 1, [c.value]: 'not a number' }),
    reason: /failed validation at \$\.key#2: /,
  },
  {
    name: 'a URL whose scheme is the value',
    type: t.url(),
    good: 'https://upstream.example.test/',
    bad: (c) => `${c.value}://upstream.example.test/`,
    reason: /has a scheme that is not one of https: http:|withheld/,
  },
  {
    name: 'a validator echoing the value in upper case',
    type: t.string(),
    validate: echoing((input) => `expected ok, got ${input.toUpperCase()}`) as never,
    good: 'ok',
    bad: (c) => c.value,
    reason: new RegExp(WITHHELD),
  },
  {
    name: 'a validator echoing part of the value',
    type: t.string(),
    validate: echoing((input) => `expected ok, got something starting with ${input.slice(0, 10)}`) as never,
    good: 'ok',
    bad: (c) => c.value,
    reason: new RegExp(WITHHELD),
  },
];

describe('Issue 12.3: a rejection reason never carries the value, on any surface', () => {
  for (const c of cases) {
    it(c.name, async () => {
      // a scheme must be letters, digits, + - . and start with a letter: a hex canary is one
      const canary = makeCanary('x', c.name.includes('scheme') ? 'hex' : 'base64url');
      const capture = new Capture();
      const declaration = defineSecrets({ VALUE: { type: c.type, ...(c.validate ? { validate: c.validate } : {}), category: 'api-key' } });
      const seen = new Set<string>();
      try {
        // 1. the error ready() throws, with the bad value there from the start (default logger: stderr)
        const first = createKeyshift(declaration, { source: memorySource({ values: { VALUE: c.bad(canary) } }), name: 'at-start' });
        capture.events(first as never, 'at-start');
        await first.ready().then(
          () => assert.fail('ready() resolved with a bad value'),
          (error: unknown) => {
            capture.error('ready', error);
            assert.match(everythingOf(error), c.reason);
            seen.add('ready');
          },
        );
        await first.close();

        // 2. a bad version while a good one is served: logger, event, channel, status, admin
        const clock = createFakeClock();
        const source = memorySource({ values: { VALUE: c.good } });
        const ks = createKeyshift(declaration, { source, clock, name: 'running' });
        capture.events(ks as never, 'running');
        ks.on('rejected', (e) => {
          assert.match(e.reason, c.reason);
          seen.add('event');
        });
        await ks.ready();
        const handler = await createAdminHandler({
          managers: ks,
          token: TOKEN,
          clock,
          auditLog: () => {},
          alerts: { logger: capture.logger('alerts'), onAlert: (alert) => capture.add('alert', JSON.stringify(alert)) },
        });
        try {
          source.set('VALUE', c.bad(canary));
          await clock.tick(1_100);
          await ks.refresh('VALUE');
          await flush();
          const status = JSON.stringify(ks.status());
          capture.add('status()', status);
          assert.match(status, /"lastError":\{[^}]*"code":"KS_ERR_VALUE_REJECTED"/);
          seen.add('status');
          const res = await handler(new Request('http://admin.test/admin/status', { headers: { authorization: `Bearer ${TOKEN}` } }), { clientAddress: '10.0.0.1' });
          const page = await res.text();
          capture.add('GET /admin/status', page);
          assert.match(page, /KS_ERR_VALUE_REJECTED/);
          assert.match(page, /was rejected/, 'the alert with its reason is on the status page');
          seen.add('admin');
          await handler.alerts.idle();
        } finally {
          await handler.close();
          await ks.close();
        }
      } finally {
        capture.stop();
      }
      const places = Object.keys(capture.summary());
      for (const place of ['stderr', 'thrown ready', 'running.rejected', `channel ${channels.rejected.name as string}`, 'status()', 'GET /admin/status', 'alert']) {
        assert.ok(places.some((p) => p.startsWith(place)), `nothing reached ${place} (saw ${places.join(', ')})`);
      }
      assert.deepEqual([...seen].sort(), ['admin', 'event', 'ready', 'status']);
      assert.deepEqual(capture.leaks([canary]), {});
    });
  }
});

/** A validator that throws what `make` builds from its input instead of returning issues. */
function throwing(make: (input: string) => unknown): StandardSchemaV1<string, string> {
  return {
    '~standard': {
      version: 1,
      vendor: 'throw-test',
      validate: (input: unknown) => {
        if (input === 'ok') return { value: 'ok' };
        throw make(String(input));
      },
    },
  };
}

describe('A codec or validator that throws instead of answering: nothing it threw reaches a message', () => {
  const named = (input: string): Error => {
    const error = new Error('bad input');
    error.name = input; // data, not the class: util.inspect, String() and the old "unexpected <name>" all showed it
    return error;
  };
  const throwers: Array<[string, (input: string) => unknown]> = [
    ['an Error whose message repeats the value', (input) => new TypeError(`cannot use ${input}`)],
    ['an Error whose name is the value', named],
    ['an Error whose cause is the value', (input) => new Error('bad input', { cause: input })],
    ['a string holding the value', (input) => `bad input ${input}`],
    ['a plain object holding the value', (input) => ({ message: input, input })],
    ['a KeyshiftError whose message repeats the value', (input) => new KeyshiftError(ErrorCodes.VALUE_REJECTED, `bad input ${input}`)],
  ];
  const codec: Codec<string> = {
    kind: 'custom',
    decode: (text) => {
      if (text === 'ok') return text;
      throw named(text);
    },
  };
  it('at ready(), at a refresh and on every surface: events, channels, status, the logger', async () => {
    const canary = makeCanary('v');
    const decl: Record<string, { type: Codec<unknown>; validate?: StandardSchemaV1<never, never>; category: 'api-key' }> = {};
    throwers.forEach(([, make], i) => {
      decl[`THROWN_${i}`] = { type: t.string(), validate: throwing(make) as never, category: 'api-key' };
    });
    decl.CODEC_THROWS = { type: codec as Codec<unknown>, category: 'api-key' };
    const names = Object.keys(decl);
    const declaration = defineSecrets(decl);
    const capture = new Capture();
    try {
      // at ready(): every entry bad from the start
      const first = createKeyshift(declaration, { source: memorySource({ values: Object.fromEntries(names.map((n) => [n, canary.value])) }), name: 'at-start', logger: capture.logger('at-start') });
      capture.events(first as never, 'at-start');
      await first.ready().then(
        () => assert.fail('ready() resolved with values every validator throws on'),
        (error: unknown) => capture.error('ready', error),
      );
      await first.close();

      // at a refresh, while a good version is served
      const clock = createFakeClock();
      const source = memorySource({ values: Object.fromEntries(names.map((n) => [n, 'ok'])) });
      const ks = createKeyshift(declaration, { source, clock, name: 'running', logger: capture.logger('running') });
      capture.events(ks as never, 'running');
      await ks.ready();
      for (const n of names) source.set(n, canary.value);
      await clock.tick(1_100);
      const results = await ks.refresh();
      for (const r of results) capture.error(`refresh ${r.name}`, r.error);
      await flush();
      assert.equal(results.filter((r) => r.error !== undefined).length, names.length, 'every throw surfaced as an error');
      for (const n of names) assert.equal(ks.get(n as never).reveal(), 'ok', `${n} kept its working value`);
      const status = JSON.stringify(ks.status());
      capture.add('status()', status);
      assert.match(status, /the (validator|codec) threw/);
      capture.add('inspect', inspect(ks, { showHidden: true, depth: 8 }));
      await ks.close();
    } finally {
      capture.stop();
    }
    const places = Object.keys(capture.summary());
    for (const place of ['thrown ready', 'thrown refresh THROWN_0', 'running.error', `channel ${channels.error.name as string}`, 'status()']) {
      assert.ok(places.includes(place), `nothing reached ${place} (saw ${places.join(', ')})`);
    }
    assert.deepEqual(capture.leaks([canary]), {});
  });
});

describe('A listener handed a value that throws it: the error event carries a value-free stand-in, not what it threw', () => {
  it('sync and async change listeners, an Error with the value in its message, name and cause, and a bare string', async () => {
    const canary = makeCanary('l');
    const clock = createFakeClock();
    const source = memorySource({ values: { API_KEY: 'first-version-ok' } });
    const capture = new Capture();
    const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } }), { source, clock, name: 'listening', logger: capture.logger('logger') });
    const errors: KeyshiftError[] = [];
    let heard: (() => void) | undefined;
    const allHeard = new Promise<void>((resolve) => {
      heard = resolve;
    });
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      capture.events(ks as never, 'listening');
      ks.on('error', (e) => {
        capture.error('error event', e.error);
        if (errors.push(e.error) === 3) heard?.();
      });
      await ks.ready();
      ks.on('change', (e) => {
        const value = ks.get(e.name as 'API_KEY').reveal();
        const error = new RangeError(`cannot use ${value}`, { cause: { value } });
        error.name = value;
        throw error;
      });
      ks.on('change', async (e) => {
        throw new Error(`async: ${ks.get(e.name as 'API_KEY').reveal()}`);
      });
      ks.on('change', (e) => {
        throw `a string: ${ks.get(e.name as 'API_KEY').reveal()}`;
      });
      source.set('API_KEY', canary.value);
      await clock.tick(1_100);
      await ks.refresh('API_KEY');
      await allHeard;
      capture.add('inspect', inspect(ks, { showHidden: true, depth: 8 }));
    } finally {
      clearInterval(keepAlive);
      await ks.close();
      capture.stop();
    }
    assert.deepEqual(errors.map((e) => e.message).sort(), ['a "change" listener threw Error', 'a "change" listener threw RangeError', 'a "change" listener threw string']);
    for (const e of errors.filter((x) => !x.message.endsWith('string'))) assert.match(String((e.cause as Error).stack), /\n\s+at /, 'the stand-in keeps the stack frames');
    const places = Object.keys(capture.summary());
    for (const place of ['thrown error event', 'listening.error', `channel ${channels.error.name as string}`]) assert.ok(places.includes(place), `nothing reached ${place}`);
    assert.deepEqual(capture.leaks([canary]), {});
  });
});
