import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type } from 'arktype';
import * as v from 'valibot';
import { z } from 'zod';
import { ECHO_MIN, echoes, formsOf, screenReason, WITHHELD } from '../../src/core/_screen.ts';
import { pathByPosition } from '../../src/core/codecs/json.ts';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { CodecError, t } from '../../src/index.ts';

/** A Standard Schema validator that fails with whatever message `say` makes of the input. */
function echoing(say: (input: unknown) => string, path?: PropertyKey[]): StandardSchemaV1<unknown, unknown> {
  return {
    '~standard': {
      version: 1,
      vendor: 'echo-test',
      validate: (input: unknown) => ({ issues: [{ message: say(input), ...(path ? { path } : {}) }] }),
    },
  };
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof CodecError, 'a CodecError');
    return error.reason;
  }
  assert.fail('expected a rejection');
}

describe('the echo screen (src/core/_screen.ts)', () => {
  const value = 'sk_live_Abc123XyZ987';

  it('withholds a message repeating any run of 4 characters of the value, in any case', () => {
    for (const message of [
      `got ${value}`,
      `got ${value.toUpperCase()}`,
      `got ${value.toLowerCase()}`,
      `prefix ${value.slice(0, ECHO_MIN)}...`,
      `suffix ...${value.slice(-ECHO_MIN)}`,
      `middle ${value.slice(8, 8 + ECHO_MIN).toUpperCase()}`,
    ]) {
      assert.equal(echoes(message, [value]), true, 'an echo is caught');
      assert.equal(screenReason(message, [value]), WITHHELD);
    }
  });

  it('keeps a message that shares at most 3 characters in a row with the value', () => {
    for (const message of ['is not one of USD, EUR', 'shorter than 32 characters', `has ${value.slice(0, 3)} and ${value.slice(5, 8)}`]) {
      assert.equal(echoes(message, [value]), false, message);
      assert.equal(screenReason(message, [value]), message);
    }
  });

  it('a form shorter than 4 characters is withheld as a whole word only, ignoring case', () => {
    assert.equal(echoes('expected one of USD, EUR but got abc', ['ABC']), true);
    assert.equal(echoes('got "ab"', ['ab']), true);
    assert.equal(echoes('a table of contents', ['ab']), false, 'glued to letters: not an echo');
    assert.equal(echoes('above the maximum of 100', ['1']), false);
    assert.equal(echoes('above the maximum of 1', ['1']), true);
  });

  it('JSON punctuation alone does not withhold a message; a form without letters or digits still counts', () => {
    const json = '{\n    "a": "b", "c": "d"\n}';
    assert.equal(echoes('expected "x", "y"    ', [json]), false);
    assert.equal(echoes('got !@#$%', ['!@#$%^']), true);
  });

  it('keeps the value-free context when the rest is withheld', () => {
    assert.equal(screenReason(`got ${value}`, [value], 'failed validation at $.key#1'), `failed validation at $.key#1: ${WITHHELD}`);
    assert.equal(screenReason(WITHHELD, ['with'], 'at $'), `at $: ${WITHHELD}`, 'screening twice is stable');
  });

  it('formsOf lists every key and leaf of parsed JSON, and other objects by their text', () => {
    assert.deepEqual(formsOf({ alpha: [1, 'x', 'long', { b: true }] }), ['alpha', 'long', 'true'], 'short keys and leaves inside JSON are left out');
    assert.deepEqual(formsOf('ab'), ['ab'], 'a short whole value is kept');
    assert.equal(echoes('Too small: expected number to be >=0', ['{"fee":-1,"min":0}', ...formsOf({ fee: -1, min: 0 })]), false, 'a 0 in the JSON does not withhold every bound');
    assert.equal(echoes('got a space', [' ']), false);
    assert.deepEqual(formsOf(new URL('https://h.test/p')), ['https://h.test/p']);
  });
});

describe('issue paths by position, never by name', () => {
  it('arrays by index, object keys by their place', () => {
    const value = { sk_live_key_one: { tenants: [{ id: 1 }, { id: 2, sk_x: 'y' }] } };
    assert.equal(pathByPosition(['sk_live_key_one', 'tenants', 1, 'sk_x'], value), '$.key#1.key#1[1].key#2');
    assert.equal(pathByPosition([{ key: 'sk_live_key_one' }, { key: 'nope' }], value), '$.key#1.key#?');
    assert.equal(pathByPosition(undefined, value), '$');
  });

  it('a JSON secret whose value is an object key: zod, valibot and arktype reasons never name the key', () => {
    const key = 'tenant_sk_live_Q9w8E7r6T5y4';
    const text = JSON.stringify({ ok: 1, [key]: 'not-a-number' });
    for (const schema of [z.record(z.string(), z.number()), v.record(v.string(), v.number()), type({ '[string]': 'number' })]) {
      const reason = reasonOf(() => t.json(schema).decode(text));
      assert.match(reason, /^failed validation at \$\.key#2/, reason);
      assert.ok(!reason.toLowerCase().includes(key.slice(7, 11).toLowerCase()), reason);
    }
  });

  it('a validator that echoes the value in another case or in part is withheld, the path kept', () => {
    const text = JSON.stringify({ list: ['first', 'Sk_Live_Partial_Echo_77'] });
    const cases = [
      echoing((input) => JSON.stringify(input).toUpperCase(), ['list', 1]),
      echoing(() => 'near SK_LIVE_PART', ['list', 1]),
      echoing(() => 'ends with echo_77', ['list', 1]),
    ];
    for (const schema of cases) {
      assert.equal(reasonOf(() => t.json(schema).decode(text)), `failed validation at $.key#1[1]: ${WITHHELD}`);
    }
  });

  it('a validator that echoes the value as bytes (base64, base64url, hex, in any case, or 8 characters of it) is withheld', () => {
    const secret = 'sk_live_Abc123XyZ987/+?~ü';
    const bytes = Buffer.from(secret);
    const encodings = [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64').slice(8, 16), bytes.toString('hex').slice(20, 28)];
    for (const encoded of encodings) {
      assert.equal(echoes(`expected 32 bytes, got <Buffer ${encoded}>`, [secret]), true, `${encoded.length} encoded characters`);
      assert.equal(reasonOf(() => t.json(echoing(() => `got ${encoded}`)).decode(JSON.stringify(secret))), `failed validation at $: ${WITHHELD}`);
    }
    // a JSON value's leaves count too, and ordinary hex, base64 and numbers in a message stay
    assert.equal(echoes(`bad key ${Buffer.from('tenant-secret-key').toString('hex')}`, formsOf({ k: 'tenant-secret-key' })), true);
    for (const message of ['expected 64 hex digits, got 12', 'request 0123abcd failed', 'at least 10000000 bytes', 'expected a base64 string such as aGVsbG8gd29ybGQ']) {
      assert.equal(echoes(message, [secret]), false, message);
    }
  });
});
