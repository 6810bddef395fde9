import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { toKeyshiftError } from '../src/errors.ts';
import { ErrorCodes, isTransient, KeyshiftError, PolicyError, StaleSecretError } from '../src/index.ts';

describe('Errors', () => {
  it('every code is documented in docs/errors.md, and every documented code exists', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/`(KS_ERR_[A-Z_]+)`/g)].map((m) => m[1]));
    assert.deepEqual([...documented].sort(), Object.values(ErrorCodes).sort());
  });

  const table: Array<[string, boolean]> = [
    [ErrorCodes.SOURCE_UNAVAILABLE, true],
    [ErrorCodes.SOURCE_TIMEOUT, true],
    [ErrorCodes.SOURCE_THROTTLED, true],
    [ErrorCodes.SOURCE_NOT_FOUND, false],
    [ErrorCodes.SOURCE_DENIED, false],
    [ErrorCodes.VERSION_DISABLED, false],
    [ErrorCodes.VALUE_REJECTED, false],
    // Permanent: a damaged local store file, a wrong key, a path the file system cannot hold (SOURCE_DENIED).
    [ErrorCodes.STORE_CORRUPT, false],
    [ErrorCodes.MASTER_KEY, false],
  ];
  for (const [code, transient] of table) {
    it(`${code} is ${transient ? '' : 'not '}transient`, () => {
      assert.equal(isTransient(new KeyshiftError(code as never, 'x')), transient);
    });
  }

  it('codes are stable strings, and subclasses keep their code', () => {
    assert.equal(new StaleSecretError('A', 10, 5).code, 'KS_ERR_STALE');
    assert.equal(new PolicyError('A', 'r', 'm').code, 'KS_ERR_POLICY');
    assert.deepEqual(new KeyshiftError(ErrorCodes.CLOSED, 'm', { entry: 'E' }).toJSON(), { code: 'KS_ERR_CLOSED', message: 'm', entry: 'E' });
  });

  it('toKeyshiftError never copies a foreign message (it may carry a credential, F4)', () => {
    const wrapped = toKeyshiftError(new TypeError('password=hunter2 rejected'), 'DB');
    assert.equal(wrapped.code, ErrorCodes.INTERNAL);
    assert.doesNotMatch(wrapped.message, /hunter2/);
    assert.match(wrapped.message, /TypeError while loading DB/);
  });
});
