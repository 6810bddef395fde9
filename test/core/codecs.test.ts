import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type } from 'arktype';
import * as v from 'valibot';
import { z } from 'zod';
import { decodeText } from '../../src/core/_decode-text.ts';
import { CodecError, t } from '../../src/index.ts';

function rejects(decode: (text: string) => unknown, text: string, reason?: RegExp): void {
  assert.throws(
    () => decode(text),
    (e: unknown) => e instanceof CodecError && (reason ? reason.test(e.reason) : true) && (text.length < 8 || !e.reason.includes(text)),
    `expected ${JSON.stringify(text)} to be rejected`,
  );
}

describe('Codecs: bad input is rejected with a reason that never quotes the value', () => {
  it('int', () => {
    const c = t.int();
    for (const bad of ['12abc', '1e3', '9007199254740993', '', ' 1', '1.0', '0x10']) rejects(c.decode, bad);
    assert.equal(c.decode('-42'), -42);
    rejects(t.int({ max: 10 }).decode, '11', /maximum of 10/);
  });

  it('float', () => {
    const c = t.float();
    for (const bad of ['NaN', 'Infinity', '1e309', '-Infinity', '1,5', '']) rejects(c.decode, bad);
    assert.equal(c.decode('0.05'), 0.05);
    assert.equal(c.decode('1e-3'), 0.001);
  });

  it('decimal keeps exact digits', () => {
    const c = t.decimal();
    for (const bad of ['0.1.2', '1e3', 'NaN', '', '.', '1.']) rejects(c.decode, bad);
    assert.equal(c.decode('0.30000000000000004').toString(), '0.30000000000000004');
    assert.equal(c.decode('0.1').plus(c.decode('0.2')).toString(), '0.3');
    rejects(t.decimal({ maxScale: 2 }).decode, '1.234', /2 digits/);
  });

  it('bool', () => {
    const c = t.bool();
    for (const bad of ['yes', 'TRUE ', 'True', 'on', '']) rejects(c.decode, bad);
    assert.equal(c.decode('true'), true);
    assert.equal(c.decode('0'), false);
  });

  it('url', () => {
    const c = t.url();
    for (const bad of ['javascript:alert(1)', 'http://', 'https://user:pw@host/', 'https://a b', 'https://x\u0000y', 'relative/path']) {
      rejects(c.decode, bad);
    }
    assert.equal(c.decode('https://Example.com/a?b=1'), 'https://example.com/a?b=1');
    assert.equal(c.display?.('https://example.com:8443/path?q=1'), 'https://example.com:8443');
  });

  it('duration', () => {
    const c = t.duration({ unit: 'h' });
    for (const bad of ['-5h', '5 h', 'h', '1h-30m', '']) rejects(c.decode, bad);
    assert.equal(c.decode('24'), 86_400_000);
    assert.equal(t.duration().decode('1h30m'), 5_400_000);
    assert.equal(t.duration().decode('250ms'), 250);
  });

  it('json refuses trailing commas and prototype keys, and leaves Object.prototype alone', () => {
    const c = t.json();
    rejects(c.decode, '{"a":1,}', /not valid JSON/);
    rejects(c.decode, '{"__proto__":{"polluted":1}}', /__proto__/);
    rejects(c.decode, '{"a":{"constructor":{"prototype":{"polluted":1}}}}', /constructor/);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const v = c.decode('{"a":[1,2]}') as { a: number[] };
    assert.ok(Object.isFrozen(v) && Object.isFrozen(v.a));
  });

  it('json with a Standard Schema validator (zod)', () => {
    const c = t.json(z.object({ fee: z.number().min(0), currency: z.enum(['USD', 'EUR']) }));
    assert.deepEqual(c.decode('{"fee":1,"currency":"USD"}'), { fee: 1, currency: 'USD' });
    rejects(c.decode, '{"fee":-1,"currency":"USD"}', /at \$\.key#1:/);
  });

  it('json with the same schema in valibot and arktype: one behaviour for any Standard Schema validator', () => {
    const schemas = {
      valibot: v.object({ fee: v.pipe(v.number(), v.minValue(0)), currency: v.picklist(['USD', 'EUR']) }),
      arktype: type({ fee: 'number >= 0', currency: "'USD' | 'EUR'" }),
    };
    for (const [library, schema] of Object.entries(schemas)) {
      const c = t.json(schema);
      assert.deepEqual(c.decode('{"fee":1,"currency":"USD"}'), { fee: 1, currency: 'USD' }, library);
      rejects(c.decode, '{"fee":-1,"currency":"USD"}', /at \$\.key#1:/);
      rejects(c.decode, '{"fee":1,"currency":"GBP"}', /at \$\.key#2:/);
      assert.throws(
        () => c.decode('{"fee":-17.25,"currency":"XQZ"}'),
        (e: Error) => !/XQZ|17\.25/.test(e.message),
        `${library}: a validator message that repeats the value is withheld`,
      );
    }
  });

  it('string refuses NUL, and CR/LF for header-bound values', () => {
    rejects(t.string().decode, 'a\u0000b', /NUL/);
    rejects(t.string({ header: true }).decode, 'a\r\nX-Evil: 1', /CR or LF/);
    rejects(t.string({ minLength: 32 }).decode, 'short', /shorter than 32/);
  });
});

describe('Text rule: identical for every source', () => {
  it('rejects invalid UTF-8 and lone surrogates instead of substituting U+FFFD', () => {
    assert.throws(() => decodeText(Uint8Array.of(0xc3, 0x28), 100, 'X'), (e: unknown) => e instanceof CodecError);
    assert.throws(() => decodeText('a\ud800b', 100, 'X'), (e: unknown) => e instanceof CodecError);
  });

  it('strips one BOM and exactly one trailing newline', () => {
    assert.equal(decodeText(Uint8Array.of(0xef, 0xbb, 0xbf, 0x61, 0x0a), 100, 'X'), 'a');
    assert.equal(decodeText('a\n\n', 100, 'X'), 'a\n');
    assert.equal(decodeText('a\r\n', 100, 'X'), 'a');
  });

  it('refuses a value over the cap with its size in the message', () => {
    assert.throws(() => decodeText('x'.repeat(101), 100, 'BIG'), /BIG: value of 101 bytes is over the 100-byte limit/);
  });
});

describe('Codecs: properties (fast-check)', () => {
  it('int round-trips every safe integer and never throws anything but CodecError', () => {
    fc.assert(fc.property(fc.maxSafeInteger(), (n) => t.int().decode(String(n)) === n));
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          const n = t.int().decode(s);
          return Number.isSafeInteger(n);
        } catch (e) {
          return e instanceof CodecError;
        }
      }),
    );
  });

  it('float returns finite numbers only', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => t.float().decode(String(n)) === n));
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          return Number.isFinite(t.float().decode(s));
        } catch (e) {
          return e instanceof CodecError;
        }
      }),
    );
  });

  it('decimal keeps every plain decimal string exactly', () => {
    const plain = fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.nat({ max: 10 ** 9 })).map(([i, f]) => `${i}.${String(f).padStart(9, '0')}`);
    fc.assert(fc.property(plain, (s) => t.decimal().decode(s).eq(t.decimal().decode(s).toString())));
  });

  it('bool, url, duration and json never throw anything but CodecError on arbitrary text', () => {
    for (const codec of [t.bool(), t.url(), t.duration(), t.json(), t.string()]) {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (s) => {
          try {
            codec.decode(s);
            return true;
          } catch (e) {
            return e instanceof CodecError;
          }
        }),
      );
    }
  });

  it('durations compose: a h + b m + c s equals their sum in ms', () => {
    fc.assert(fc.property(fc.nat(1000), fc.nat(59), fc.nat(59), (h, m, s) => t.duration().decode(`${h}h${m}m${s}s`) === ((h * 60 + m) * 60 + s) * 1000));
  });
});

describe('Codecs: their options are checked when they are made', () => {
  it('a typo, a wrong type, min above max or a schema that is not a Standard Schema is KS_ERR_INVALID_DECLARATION naming the codec and option', () => {
    const refused = (make: () => unknown, message: RegExp): void => {
      assert.throws(make, (e: { code?: string; message?: string }) => e.code === 'KS_ERR_INVALID_DECLARATION' && message.test(e.message ?? ''));
    };
    const loose = <T>(options: unknown): T => options as T;
    refused(() => t.decimal({ min: 5, max: 1 }), /^t\.decimal\(\): min \(5\) is above max \(1\)$/);
    refused(() => t.int(loose({ min: '1' })), /^t\.int\(\): option min must be a finite number$/);
    refused(() => t.float({ max: Number.NaN }), /^t\.float\(\): option max must be a finite number$/);
    refused(() => t.string(loose({ minLen: 32 })), /^t\.string\(\): unknown option "minLen" \(the options are minLength, maxLength, pattern, header\)$/);
    refused(() => t.string({ minLength: 10, maxLength: 5 }), /minLength \(10\) is above maxLength \(5\)/);
    refused(() => t.string(loose({ pattern: '^sk_' })), /option pattern must be a RegExp/);
    refused(() => t.duration(loose({ unit: 'weeks' })), /^t\.duration\(\): option unit must be one of ms, s, m, h, d$/);
    refused(() => t.duration({ minMs: 10, maxMs: 1 }), /minMs \(10\) is above maxMs \(1\)/);
    refused(() => t.url(loose({ protocol: ['https:'] })), /^t\.url\(\): unknown option "protocol"/);
    refused(() => t.oneOf(loose<['a']>([])), /^t\.oneOf\(\): option values must be a non-empty array of strings$/);
    refused(() => t.json(loose<undefined>(5)), /^t\.json\(\): the schema must be a Standard Schema validator/);
    refused(() => t.json(loose<undefined>((x: unknown) => x)), /the schema must be a Standard Schema validator/);
    // the documented options are accepted
    assert.equal(t.decimal({ min: 0, max: 100, maxScale: 2 }).decode('1.25').toString(), '1.25');
    assert.equal(t.duration({ unit: 'h', minMs: 0, maxMs: 86_400_000 }).decode('24'), 86_400_000);
    assert.equal(t.string({ minLength: 1, maxLength: 5, pattern: /^a/, header: true }).decode('abc'), 'abc');
    assert.equal(t.url({ protocols: ['https:'], allowCredentials: false }).decode('https://a.example/'), 'https://a.example/');
    assert.equal(t.oneOf(['a', 'b']).decode('b'), 'b');
    assert.deepEqual(t.json(z.object({ a: z.number() })).decode('{"a":1}'), { a: 1 });
    assert.deepEqual(t.json(type({ a: 'number' })).decode('{"a":1}'), { a: 1 });
  });
});
