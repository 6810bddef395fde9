import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createKeyshift, defineSecrets, ErrorCodes, type KeyshiftError, t } from '../../src/index.ts';
import { memorySource } from '../../src/sources/memory.ts';

const original = process.env.NODE_ENV;
function nodeEnv(value: string | undefined): void {
  if (value === undefined) delete process.env.NODE_ENV;
  else process.env.NODE_ENV = value;
}

const declaration = () =>
  defineSecrets({
    PAYMENTS_URL: { type: t.url(), category: 'service-url', devDefault: 'http://localhost:4000/' },
    MAX_RETRIES: { type: t.int({ min: 0 }), category: 'app-config', devDefault: '3' },
  });

describe('devDefault', () => {
  afterEach(() => nodeEnv(original));

  for (const env of ['development', 'test']) {
    it(`serves the default when the store has no value, with NODE_ENV=${env}, marked as dev-default`, async () => {
      nodeEnv(env);
      const source = memorySource({ values: { MAX_RETRIES: '5' } });
      const ks = createKeyshift(declaration(), { source, logger: false });
      await ks.ready();
      assert.equal(ks.get('PAYMENTS_URL'), 'http://localhost:4000/');
      assert.equal(ks.get('MAX_RETRIES'), 5, 'a stored value wins over the default');
      const status = ks.status().entries.find((e) => e.name === 'PAYMENTS_URL');
      assert.equal(status?.source, 'dev-default');
      assert.equal(status?.version, 'dev-default');
      source.set('PAYMENTS_URL', 'http://localhost:5000/'); // once the store has one, it is served
      await ks.refresh('PAYMENTS_URL');
      assert.equal(ks.get('PAYMENTS_URL'), 'http://localhost:5000/');
      await ks.close();
    });
  }

  for (const env of ['production', undefined, 'staging']) {
    it(`is never served with NODE_ENV=${env ?? '(unset)'}: the missing entry fails ready()`, async () => {
      nodeEnv(env);
      const ks = createKeyshift(declaration(), { source: memorySource({ values: { MAX_RETRIES: '5' } }), logger: false });
      await assert.rejects(ks.ready(), (e: KeyshiftError) => e.code === ErrorCodes.SOURCE_NOT_FOUND && /PAYMENTS_URL/.test(e.message));
      await ks.close();
    });
  }

  it('is decoded and validated like a stored value: a bad default fails ready() in development', async () => {
    nodeEnv('development');
    const ks = createKeyshift(defineSecrets({ N: { type: t.int({ min: 0 }), category: 'app-config', devDefault: '-1' } }), {
      source: memorySource(),
      logger: false,
    });
    await assert.rejects(ks.ready(), (e: KeyshiftError) => e.code === ErrorCodes.VALUE_REJECTED);
    await ks.close();
  });

  it('is refused on a secret entry at declaration time', () => {
    assert.throws(
      () => defineSecrets({ API_KEY: { type: t.string(), category: 'api-key', devDefault: 'dev-key' } }),
      (e: KeyshiftError) => e.code === ErrorCodes.INVALID_DECLARATION && /API_KEY.*devDefault is refused on a secret/.test(e.message),
    );
    assert.throws(() => defineSecrets({ TOKEN: { type: t.string(), secret: true, devDefault: 'x' } }), /refused on a secret/);
  });
});
