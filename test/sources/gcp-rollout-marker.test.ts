/** The Secret Manager source's rollout markers, with the official client against the emulator: an annotation written with the etag. */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROLLOUT_ANNOTATION } from '../../src/core/adoption.ts';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';

const signal = () => AbortSignal.timeout(10_000);

describe('Source: gcpSecretManager rollout markers against the emulator', () => {
  let f: Fixture;
  let source: ReturnType<typeof gcpSecretManager>;
  before(async () => {
    f = await startFixture();
    source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
    await seed(f, 'CN_API_KEY', 'fake-1', 'fake-2');
    await f.client.updateSecret({ secret: { name: f.secret('CN_API_KEY'), annotations: { team: 'payments' } }, updateMask: { paths: ['annotations'] } });
  });
  after(async () => {
    await source.close();
    await f.close();
  });

  it('writes a halt marker as an annotation (other annotations kept), reads it back, and removes it', async () => {
    assert.equal(await source.rolloutMarker?.('CN_API_KEY', { signal: signal() }), undefined);
    await source.markRollout?.('CN_API_KEY', { version: '2', state: 'halted', reason: '3 failures reported during the bake' }, { signal: signal() });
    const marker = await source.rolloutMarker?.('CN_API_KEY', { signal: signal() });
    assert.deepEqual([marker?.version, marker?.state, marker?.reason], ['2', 'halted', '3 failures reported during the bake']);
    const [secret] = await f.client.getSecret({ name: f.secret('CN_API_KEY') });
    assert.equal(secret.annotations?.team, 'payments');
    await source.markRollout?.('CN_API_KEY', undefined, { signal: signal() });
    assert.equal(await source.rolloutMarker?.('CN_API_KEY', { signal: signal() }), undefined);
  });

  it('a marker another tool wrote is KS_ERR_ROLLOUT_MARKER, not a crash', async () => {
    await f.client.updateSecret({ secret: { name: f.secret('CN_API_KEY'), annotations: { [ROLLOUT_ANNOTATION]: 'halt-v2' } }, updateMask: { paths: ['annotations'] } });
    await assert.rejects(source.rolloutMarker?.('CN_API_KEY', { signal: signal() }) ?? Promise.resolve(), (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.ROLLOUT_MARKER);
  });
});
