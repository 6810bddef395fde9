import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { describeJsonError, jsonErrorOffset } from '../../src/admin/_json-error.ts';

describe('JSON error position', () => {
  it('finds no error in any valid JSON', () => {
    fc.assert(
      fc.property(fc.json(), (text) => jsonErrorOffset(text) === -1),
      { numRuns: 500 },
    );
  });

  it('points at or before the end for any text JSON.parse refuses', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const offset = jsonErrorOffset(text);
        return valid ? offset === -1 : offset >= 0 && offset <= text.length;
      }),
      { numRuns: 1_000 },
    );
  });

  it('names the position, line and column, and never a character of the input', () => {
    assert.equal(describeJsonError('{\n  "a": tru\n}'), 'malformed JSON: unexpected character at position 12 (line 2, column 11)');
    assert.equal(describeJsonError('[1, 2'), 'malformed JSON: unexpected end of input at position 5');
    assert.equal(describeJsonError('{"a":"\\x"}'), 'malformed JSON: unexpected character at position 6 (line 1, column 7)');
    assert.equal(describeJsonError('{"a":1} SECRET'), 'malformed JSON: unexpected character at position 8 (line 1, column 9)');
    assert.equal(describeJsonError(`${'['.repeat(600)}]`).startsWith('malformed JSON: unexpected character at position 513'), true);
  });
});
