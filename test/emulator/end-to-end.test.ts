/**
 * End to end: two keyshift instances read Secret Manager (the emulator) through the
 * real client; a new version added through the real client is pushed to both, and
 * both serve it without waiting for their (hour-long) TTL.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { gcpPubSubPushHandler } from '../../src/sources/gcp-pubsub-push.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { holdOpen } from '../_hold-open.ts';
import { type Fixture, PROJECT, seed, startFixture } from './_fixture.ts';
import { type PushServer, startPushServer } from './_push-server.ts';

const TOKEN = 'end-to-end-push-token-0123456789';
const HOUR = 60 * 60_000;

const declaration = defineSecrets({
  API_KEY: { type: t.string(), category: 'api-key', ttlMs: HOUR },
  SERVICE_URL: { type: t.url(), category: 'service-url', ttlMs: HOUR },
});

async function startInstance(f: Fixture) {
  const source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
  const ks = createKeyshift(declaration, { source, logger: false });
  const push: PushServer = await startPushServer(gcpPubSubPushHandler({ source, token: TOKEN }));
  // One push subscription per instance: a push subscription delivers each message to one endpoint.
  const unsubscribe = f.emulator.addPushSubscription({ url: push.url, bearerToken: TOKEN });
  return {
    ks,
    /** Resolves with the version once `name` serves `version`. */
    changed(name: string, version: string): Promise<void> {
      return new Promise((resolve) => {
        const stop = ks.on('change', (e) => {
          if (e.name === name && e.version === version) {
            stop();
            resolve();
          }
        });
      });
    },
    async close() {
      unsubscribe();
      await ks.close();
      await push.close();
    },
  };
}

describe('End to end: Secret Manager emulator, push, two keyshift instances', () => {
  let f: Fixture;
  let a: Awaited<ReturnType<typeof startInstance>>;
  let b: Awaited<ReturnType<typeof startInstance>>;
  before(async () => {
    f = await startFixture();
    await seed(f, 'API_KEY', 'fake-key-v1');
    await seed(f, 'SERVICE_URL', 'https://pay-v1.example/api');
    a = await startInstance(f);
    b = await startInstance(f);
    await Promise.all([a.ks.ready(), b.ks.ready()]);
  });
  after(async () => {
    await a.close();
    await b.close();
    await f.close();
  });

  it('Plan 36: both instances serve a version added through the real client, by push', async () => {
    assert.equal(a.ks.get('API_KEY').reveal(), 'fake-key-v1');
    const both = Promise.all([a.changed('API_KEY', '2'), b.changed('API_KEY', '2')]);
    await f.client.addSecretVersion({ parent: f.secret('API_KEY'), payload: { data: Buffer.from('fake-key-v2') } });
    await holdOpen(both);
    assert.equal(a.ks.get('API_KEY').reveal(), 'fake-key-v2');
    assert.equal(b.ks.get('API_KEY').reveal(), 'fake-key-v2');
    assert.equal(a.ks.get('SERVICE_URL'), 'https://pay-v1.example/api', 'an unrelated entry was refreshed');
  });

  it('a burst of 1,000 pushes for one new version makes 2 store calls, not 1,000 (plan test 10)', async () => {
    // A third instance, not subscribed to the emulator: it hears of the change only through the burst.
    const source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
    const ks = createKeyshift(declaration, { source, logger: false });
    await ks.ready();
    const fetches: string[] = [];
    let second: () => void = () => {};
    const twoFetches = new Promise<void>((resolve) => {
      second = resolve;
    });
    const stop = ks.on('fetch', (e) => {
      if (e.name !== 'API_KEY') return;
      fetches.push(`${e.trigger}:${e.outcome}`);
      if (fetches.length === 2) second();
    });
    try {
      await f.client.addSecretVersion({ parent: f.secret('API_KEY'), payload: { data: Buffer.from('fake-key-v3') } });
      const push = gcpPubSubPushHandler({ source, token: TOKEN });
      const attributes = { eventType: 'SECRET_VERSION_ADD', secretId: `projects/${PROJECT}/secrets/API_KEY` };
      const statuses = await Promise.all(
        Array.from({ length: 1_000 }, (_, i) =>
          push(
            new Request('http://127.0.0.1/push', {
              method: 'POST',
              headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
              body: JSON.stringify({ message: { attributes, messageId: `burst-${i}` }, subscription: 's' }),
            }),
          ).then((r) => r.status),
        ),
      );
      assert.ok(statuses.every((status) => status === 204));
      await holdOpen(twoFetches); // the first push's fetch, then one trailing fetch at the end of the coalescing interval
      assert.deepEqual(fetches, ['push:changed', 'push:unchanged']);
      assert.equal(ks.get('API_KEY').reveal(), 'fake-key-v3');
    } finally {
      stop();
      await ks.close();
    }
  });

  it('Plan 36: a rollback through an alias is pushed and served too', async () => {
    const aliased = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions(), version: 'current' });
    const ks = createKeyshift(declaration, { source: aliased, logger: false });
    const push = await startPushServer(gcpPubSubPushHandler({ source: aliased, token: TOKEN }));
    const unsubscribe = f.emulator.addPushSubscription({ url: push.url, bearerToken: TOKEN });
    try {
      for (const id of ['API_KEY', 'SERVICE_URL']) {
        await f.client.updateSecret({
          secret: { name: f.secret(id), versionAliases: { current: id === 'API_KEY' ? 2 : 1 } },
          updateMask: { paths: ['version_aliases'] },
        });
      }
      await ks.ready();
      assert.equal(ks.get('API_KEY').reveal(), 'fake-key-v2');
      const rolledBack = new Promise<void>((resolve) => {
        const stop = ks.on('change', (e) => {
          if (e.name === 'API_KEY' && e.version === '1') {
            stop();
            resolve();
          }
        });
      });
      await f.client.updateSecret({
        secret: { name: f.secret('API_KEY'), versionAliases: { current: 1 } },
        updateMask: { paths: ['version_aliases'] },
      });
      await holdOpen(rolledBack);
      assert.equal(ks.get('API_KEY').reveal(), 'fake-key-v1');
    } finally {
      unsubscribe();
      await ks.close();
      await push.close();
      await aliased.close();
    }
  });
});
