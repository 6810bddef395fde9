/**
 * Plan section E, test 36, poll only: two instances read the "current" alias through the
 * real Google client, with no push; a new version (current moved to it) and then a
 * rollback (current moved back) are each served by both within TTL + jitter, on a step
 * clock. The push half is in test/emulator/end-to-end.test.ts; verify-rotation's exit
 * code in test/rotation/rotation-verifier.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { PROJECT, seed, startFixture } from '../emulator/_fixture.ts';
import { runTo, StepClock } from './_clock.ts';
import { tracked } from './_stores.ts';
import { failOnUnhandled } from './_strict.ts';

failOnUnhandled();

const TTL_MS = 1_000;
const JITTER = 0.1;

describe('Plan 36: propagation and rollback, poll only', () => {
  it('both instances serve a new version, then the rolled-back one, within TTL + jitter of each alias move', async () => {
    const f = await startFixture();
    const clock = new StepClock();
    const sources = [0, 1].map(() => tracked(gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions(), version: 'current' }), () => clock.now()));
    const busy = () => sources.some((s) => s.inFlight > 0);
    const moveCurrent = (version: number) =>
      f.client.updateSecret({ secret: { name: f.secret('API_KEY'), versionAliases: { current: version } }, updateMask: { paths: ['version_aliases'] } });
    try {
      await seed(f, 'API_KEY', 'fake-key-v1');
      await moveCurrent(1);
      const instances = sources.map((source) =>
        createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key', ttlMs: TTL_MS } }), { source, clock, logger: false, ttlJitter: JITTER }),
      );
      await Promise.all(instances.map((ks) => ks.ready()));
      const served = () => instances.map((ks) => ks.get('API_KEY').reveal());
      assert.deepEqual(served(), ['fake-key-v1', 'fake-key-v1']);

      // a new version through the real client, and "current" moved to it
      await f.client.addSecretVersion({ parent: f.secret('API_KEY'), payload: { data: Buffer.from('fake-key-v2') } });
      await moveCurrent(2);
      await runTo(clock, clock.now() + TTL_MS * (1 + JITTER), { busy });
      assert.deepEqual(served(), ['fake-key-v2', 'fake-key-v2']);

      // the rollback: "current" moved back, as an AWS stage move would
      await moveCurrent(1);
      await runTo(clock, clock.now() + TTL_MS * (1 + JITTER), { busy });
      assert.deepEqual(served(), ['fake-key-v1', 'fake-key-v1']);
      assert.deepEqual(
        instances.map((ks) => ks.status().entries[0]?.version),
        ['1', '1'],
      );
      await Promise.all(instances.map((ks) => ks.close()));
    } finally {
      for (const s of sources) await s.close?.();
      await f.close();
    }
  });
});
