/** The emulator's Pub/Sub push: envelope format, every event type, auth forms, echoes and failures. */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PushFailure } from '../../src/emulator/index.ts';
import { gcpPubSubPushHandler } from '../../src/sources/gcp-pubsub-push.ts';
import { type Fixture, PROJECT, seed, startFixture } from './_fixture.ts';
import { type PushServer, startPushServer } from './_push-server.ts';

const TOKEN = 'emulator-push-token-0123456789';

interface Envelope {
  message: {
    attributes: Record<string, string>;
    data: string;
    messageId: string;
    message_id: string;
    publishTime: string;
  };
  subscription: string;
}

describe('Emulator: Pub/Sub push', () => {
  let f: Fixture;
  let server: PushServer;
  const invalidated: string[][] = [];
  before(async () => {
    server = await startPushServer(
      gcpPubSubPushHandler({ token: TOKEN, onInvalidate: (names) => void invalidated.push([...names]) }),
    );
    f = await startFixture({ push: [{ url: server.url, bearerToken: TOKEN, subscription: `projects/${PROJECT}/subscriptions/ks` }] });
  });
  after(async () => {
    await f.close();
    await server.close();
  });

  const envelopes = () => server.received as Envelope[];
  const types = (from: number) => envelopes().slice(from).map((e) => e.message.attributes.eventType);

  it('posts a Secret Manager notification envelope that the push handler accepts', async () => {
    const from = envelopes().length;
    await seed(f, 'API_KEY', 'fake-1');
    await f.emulator.flushPush();
    assert.deepEqual(types(from), ['SECRET_CREATE', 'SECRET_VERSION_ADD']);
    const added = envelopes().at(-1)!;
    assert.equal(added.subscription, `projects/${PROJECT}/subscriptions/ks`);
    assert.deepEqual(Object.keys(added.message.attributes).sort(), [
      'dataFormat',
      'eventType',
      'secretId',
      'timestamp',
      'versionId',
    ]);
    assert.equal(added.message.attributes.secretId, `projects/${PROJECT}/secrets/API_KEY`);
    assert.equal(added.message.attributes.versionId, `projects/${PROJECT}/secrets/API_KEY/versions/1`);
    assert.equal(added.message.attributes.dataFormat, 'JSON_API_V1');
    assert.equal(added.message.messageId, added.message.message_id);
    assert.ok(!Number.isNaN(Date.parse(added.message.publishTime)));
    const resource = JSON.parse(Buffer.from(added.message.data, 'base64').toString('utf8'));
    assert.equal(resource.name, `projects/${PROJECT}/secrets/API_KEY/versions/1`);
    assert.equal(resource.state, 'ENABLED');
    assert.ok(!Number.isNaN(Date.parse(resource.createTime)));
    assert.ok(!JSON.stringify(added).includes('fake-1'), 'a push carried the value');
    assert.deepEqual(invalidated.at(-1), ['API_KEY']);
    assert.equal(f.emulator.pushStats().failed, 0);
  });

  it('publishes every version and secret event', async () => {
    await seed(f, 'LIFECYCLE', 'fake-a', 'fake-b');
    await f.emulator.flushPush();
    const from = envelopes().length;
    const v1 = `${f.secret('LIFECYCLE')}/versions/1`;
    await f.client.disableSecretVersion({ name: v1 });
    await f.client.enableSecretVersion({ name: v1 });
    await f.client.destroySecretVersion({ name: v1 });
    await f.client.updateSecret({ secret: { name: f.secret('LIFECYCLE'), labels: { a: 'b' } }, updateMask: { paths: ['labels'] } });
    await f.client.deleteSecret({ name: f.secret('LIFECYCLE') });
    await f.emulator.flushPush();
    assert.deepEqual(types(from), [
      'SECRET_VERSION_DISABLE',
      'SECRET_VERSION_ENABLE',
      'SECRET_VERSION_DESTROY',
      'SECRET_UPDATE',
      'SECRET_DELETE',
    ]);
    const ids = envelopes().map((e) => e.message.messageId);
    assert.equal(new Set(ids).size, ids.length, 'message ids are unique');
  });

  it('publishes changes another writer makes to the store, and never echoes its own', async () => {
    await seed(f, 'SHARED', 'fake-grpc');
    await f.emulator.flushPush();
    const from = envelopes().length;
    await f.client.addSecretVersion({ parent: f.secret('SHARED'), payload: { data: Buffer.from('fake-grpc-2') } });
    await f.emulator.store.put('SHARED', 'fake-cli'); // as `keyshift put` in another process would
    // The store feed is ordered: once the external version arrives, any echo of the gRPC one has been seen too.
    while (!envelopes().slice(from).some((e) => e.message.attributes.versionId?.endsWith('/versions/3'))) {
      await new Promise((resolve) => setImmediate(resolve));
      await f.emulator.flushPush();
    }
    await f.emulator.flushPush();
    assert.deepEqual(
      envelopes()
        .slice(from)
        .map((e) => e.message.attributes.versionId),
      // A change made outside the emulator names the store's project: the one the first call claimed.
      [`projects/${PROJECT}/secrets/SHARED/versions/2`, `projects/${PROJECT}/secrets/SHARED/versions/3`],
    );
  });

  it('sends the shared-secret query form, and reports a failing endpoint without its query', async () => {
    const failures: PushFailure[] = [];
    let hits = 0;
    const down = await startPushServer(async () => {
      hits += 1;
      return new Response(null, { status: 503 });
    });
    const g = await startFixture({ onPushFailure: (x) => void failures.push(x) });
    try {
      g.emulator.addPushSubscription({ url: down.url, queryToken: TOKEN, maxAttempts: 3, retryDelayMs: 1 });
      await seed(g, 'X');
      await g.emulator.flushPush();
      assert.equal(hits, 3);
      assert.equal(failures.length, 1);
      assert.equal(failures[0]!.endpoint, down.url);
      assert.equal(failures[0]!.status, 503);
      assert.ok(!JSON.stringify(failures).includes(TOKEN));
      assert.deepEqual(g.emulator.pushStats(), { delivered: 0, failed: 1 });
    } finally {
      await g.close();
      await down.close();
    }
  });

  it('close() does not wait for retries of a failing endpoint', async () => {
    const down = await startPushServer(async () => new Response(null, { status: 500 }));
    const g = await startFixture({ push: [{ url: down.url, maxAttempts: 5, retryDelayMs: 60_000 }] });
    await seed(g, 'Y');
    await g.close(); // would take minutes if the retry timers were awaited
    await down.close();
  });
});
