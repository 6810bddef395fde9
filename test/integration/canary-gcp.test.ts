/**
 * Canary adoption on the Secret Manager emulator (the official client over loopback): a fleet
 * of 10 managers in one process, a fake clock for the bake, each notification played as a
 * refresh of every instance, and the ChangeNow stand-in judging each key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ChangeNowServer, startChangeNowServer } from '../../examples/pgp/stand-ins/changenow-server.ts';
import { adoptionSlot } from '../../src/core/adoption.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { createFakeClock, flush } from '../../src/testing/index.ts';
import { type Fixture, seed, startFixture, PROJECT } from '../emulator/_fixture.ts';

const N = 10;
const BAKE = 60_000;

describe('canary adoption: 10 instances on the Secret Manager emulator, the ChangeNow stand-in', () => {
  let f: Fixture;
  let cn: ChangeNowServer;
  before(async () => {
    f = await startFixture();
    cn = await startChangeNowServer({ apiKey: 'cn_live_initial_key_0000000000' });
    await seed(f, 'CN_API_KEY', 'cn_live_initial_key_0000000000');
  });
  after(async () => {
    await cn.close();
    await f.close();
  });

  it('a good key is adopted by all within the bake with 0 failures; a rejected one is halted by the first slice and marked in the annotations', async () => {
    const clock = createFakeClock();
    const decl = defineSecrets({ CN_API_KEY: { type: t.string(), category: 'api-key', ttlMs: 3_600_000, adoption: { steps: [0.2, 0.5], bakeMs: BAKE, maxFailures: 2 } } });
    // ids whose first slice for version 3 (the bad key) holds 1 to 3 instances
    let salt = 0;
    while (![1, 2, 3].includes(Array.from({ length: N }, (_, i) => adoptionSlot(`gcp-${salt}-${i}`, 'CN_API_KEY', '3') < 0.2).filter(Boolean).length)) salt++;
    const fleet = Array.from({ length: N }, (_, i) =>
      createKeyshift(decl, { source: gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() }), clock, random: () => 0.5, logger: false, instanceId: `gcp-${salt}-${i}` }),
    );
    await Promise.all(fleet.map((ks) => ks.ready()));
    const notify = async () => {
      await Promise.all(fleet.map((ks) => ks.refresh('CN_API_KEY')));
      await clock.tick(1_100); // past the minimum refresh interval
    };
    let failed = 0;
    let ok = 0;
    const requests = async () => {
      for (const ks of fleet) {
        const res = await fetch(`${cn.url}/exchange/by-id?id=1`, { headers: { 'x-changenow-api-key': ks.get('CN_API_KEY').reveal() } });
        await res.arrayBuffer();
        if (res.status === 401) {
          failed++;
          ks.reportFailure('CN_API_KEY');
        } else ok++;
      }
      await flush();
    };
    const version = () => fleet.map((ks) => ks.status().entries[0]?.version);

    // a good key
    const good = cn.issueKey();
    await f.client.addSecretVersion({ parent: f.secret('CN_API_KEY'), payload: { data: Buffer.from(good) } });
    await notify();
    for (let step = 0; step < 7; step++) {
      await requests();
      await clock.tick(BAKE / 6);
    }
    await requests();
    assert.deepEqual(version(), Array(N).fill('2'));
    assert.equal(failed, 0);
    assert.ok(ok >= 8 * N, `${ok} requests served with the good key`);

    // a key the provider has not activated
    const bad = cn.issueKey({ activeAfterMs: 1e12 });
    await f.client.addSecretVersion({ parent: f.secret('CN_API_KEY'), payload: { data: Buffer.from(bad) } });
    const first = fleet.filter((ks) => adoptionSlot(ks.instanceId, 'CN_API_KEY', '3') < 0.2).length;
    await notify();
    let peak = 0;
    for (let round = 0; round < 6; round++) {
      peak = Math.max(peak, version().filter((v) => v === '3').length);
      await requests();
      // the halting instance writes the marker in the background: wait for it, then one notification
      for (let i = 0; i < 50; i++) {
        const [secret] = await f.client.getSecret({ name: f.secret('CN_API_KEY') });
        if (secret.annotations?.['keyshift-rollout']) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await notify();
    }
    await clock.tick(BAKE);
    await notify();
    await requests();
    const [secret] = await f.client.getSecret({ name: f.secret('CN_API_KEY') });
    console.log(`emulator: good key adopted by ${N}/${N}, 0 failed; bad key served by ${peak}/${N} (first slice ${first}), ${failed} failed (≤ 2 x ${first}), marker ${secret.annotations?.['keyshift-rollout']?.slice(0, 40)}...`);
    assert.ok(peak <= first && peak >= 1);
    assert.deepEqual(version(), Array(N).fill('2'), 'every instance back on the old key');
    assert.ok(failed <= 2 * first && failed >= 2);
    assert.match(secret.annotations?.['keyshift-rollout'] ?? '', /"version":"3","state":"halted"/);
    await Promise.all(fleet.map((ks) => ks.close()));
  });
});
