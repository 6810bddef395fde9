/**
 * The pull source with the official @google-cloud/pubsub client against Google's Pub/Sub
 * emulator, fed by keyshift's Secret Manager emulator publishing to a topic on it.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { ErrorCodes, type KeyshiftError } from '../../src/errors.ts';
import { gcpPubSubPull } from '../../src/sources/gcp-pubsub-pull.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { subscriptionFilter } from '../../src/sources/_pubsub-instance-subscription.ts';
import { type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';
import { type PubSubEmulator, skipWithoutPubSub, uniqueName, usePubSubEmulator } from '../_pubsub-emulator.ts';

const skip = skipWithoutPubSub();

/** Resolves when `check()` is true; polls on a real timer that holds the event loop open. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('gcpPubSubPull against Google\'s Pub/Sub emulator', { skip }, () => {
  let pubsubEmulator: PubSubEmulator;
  let admin: PubSub;
  let f: Fixture;
  let topic: string;

  before(async () => {
    pubsubEmulator = await usePubSubEmulator();
    admin = new PubSub({ projectId: PROJECT });
    topic = `projects/${PROJECT}/topics/${uniqueName('secrets')}`;
    await admin.createTopic(topic);
    f = await startFixture({ pubsubTopics: [{ topic, clientConfig: { projectId: PROJECT } }] });
  });

  after(async () => {
    await f?.close();
    await admin?.topic(topic).delete().catch(() => undefined);
    await admin?.close();
    await pubsubEmulator?.stop();
  });

  const subscriptionsOf = async (name: string): Promise<string[]> => (await admin.topic(name).getSubscriptions())[0].map((s) => s.name);

  it('makes a subscription for this instance (expiration, retention, filter) and deletes it on close()', async () => {
    const secrets = [`projects/${PROJECT}/secrets/API_KEY`, `projects/${PROJECT}/secrets/DB_URL`];
    const pull = await gcpPubSubPull({
      instanceSubscription: { topic, filterSecrets: secrets },
      clientConfig: { projectId: PROJECT },
      onInvalidate: () => {},
    });
    assert.match(pull.subscription, new RegExp(`^projects/${PROJECT}/subscriptions/keyshift-instance-[0-9a-f]{16}$`));
    assert.deepEqual(await subscriptionsOf(topic), [pull.subscription]);
    const [meta] = await admin.subscription(pull.subscription).getMetadata();
    assert.equal(Number(meta.expirationPolicy?.ttl?.seconds), 86_400);
    assert.equal(Number(meta.messageRetentionDuration?.seconds), 600);
    const id = pull.subscription.split('/').pop();
    assert.equal(
      meta.filter,
      `attributes.secretId = "${secrets[0]}" OR attributes.secretId = "${secrets[1]}" OR attributes.keyshiftHeartbeat = "${id}" OR attributes.eventType = "KEYSHIFT_FLEET_PING"`,
    );
    assert.equal(pull.status().filter, meta.filter);
    await pull.close();
    assert.deepEqual(await subscriptionsOf(topic), []);
  });

  it('sets no filter when it would be over 256 bytes (the handler ignores other secrets itself)', () => {
    const many = Array.from({ length: 6 }, (_, i) => `projects/123456789012/secrets/PGP_SERVICE_URL_${i}`);
    const one = subscriptionFilter(many.slice(0, 1), 'keyshift-x-0011223344556677');
    assert.ok(one !== undefined && Buffer.byteLength(one) <= 256, one);
    assert.equal(subscriptionFilter(many, 'keyshift-x-0011223344556677'), undefined);
    assert.throws(() => subscriptionFilter(['projects/p/secrets/A" OR "1'], undefined), { code: ErrorCodes.INVALID_DECLARATION });
  });

  it('a version added with the official client reaches a manager through the topic; the heartbeat comes back', async () => {
    await seed(f, 'PULL_KEY', 'v1-value');
    const source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
    const pull = await gcpPubSubPull({
      instanceSubscription: { topic },
      clientConfig: { projectId: PROJECT },
      heartbeat: { intervalMs: 200 },
      source,
    });
    const ks = createKeyshift(defineSecrets({ PULL_KEY: { type: t.string(), ttlMs: 3_600_000 } }), {
      source,
      notifications: pull.health,
      logger: false,
    });
    try {
      await ks.ready();
      await until(() => pull.health.state === 'healthy', 'the heartbeat');
      assert.ok(pull.status().heartbeatsBack >= 1);
      await f.client.addSecretVersion({ parent: f.secret('PULL_KEY'), payload: { data: Buffer.from('v2-value') } });
      await until(() => ks.status().entries.find((e) => e.name === 'PULL_KEY')?.version === '2', 'version 2');
      assert.equal(ks.get('PULL_KEY'), 'v2-value');
      assert.ok(f.emulator.topicStats().published >= 2);
    } finally {
      await pull.close();
      await ks.close();
    }
    assert.deepEqual(await subscriptionsOf(topic), []);
  });

  it('a missing topic is an error and a down health (start-up goes on); once the topic exists the path heals', async () => {
    const missing = `projects/${PROJECT}/topics/${uniqueName('not-yet')}`;
    const errors: KeyshiftError[] = [];
    const pull = await gcpPubSubPull({
      instanceSubscription: { topic: missing },
      clientConfig: { projectId: PROJECT },
      heartbeat: { intervalMs: 200 },
      retryMs: 200,
      onInvalidate: () => {},
      onError: (e) => void errors.push(e),
    });
    try {
      assert.equal(errors[0]?.code, ErrorCodes.NOTIFICATIONS_UNAVAILABLE);
      assert.equal(errors[0]?.details.grpcCode, 5);
      assert.match(errors[0]!.message, /does not exist/);
      assert.equal(pull.health.state, 'down');
      assert.equal(pull.health.ttlMs(60_000), 60_000);
      await admin.createTopic(missing);
      await until(() => pull.health.state === 'healthy', 'the heartbeat after the topic exists');
    } finally {
      await pull.close();
      await admin.topic(missing).delete().catch(() => undefined);
    }
  });

  it('a subscription deleted under it is reported, the health goes down, and it is made again', async () => {
    const errors: KeyshiftError[] = [];
    const pull = await gcpPubSubPull({
      instanceSubscription: { topic },
      clientConfig: { projectId: PROJECT },
      heartbeat: { intervalMs: 200 },
      retryMs: 200,
      onInvalidate: () => {},
      onError: (e) => void errors.push(e),
    });
    const states: string[] = [];
    pull.health.on((c) => void states.push(c.state));
    try {
      await until(() => pull.health.state === 'healthy', 'the first heartbeat');
      await admin.subscription(pull.subscription).delete();
      await until(() => states.includes('down') || states.includes('quiet'), 'the failure to be noticed', 30_000);
      await until(() => pull.health.state === 'healthy', 'the path to heal', 30_000);
      assert.deepEqual(await subscriptionsOf(topic), [pull.subscription]);
    } finally {
      await pull.close();
    }
    assert.deepEqual(await subscriptionsOf(topic), []);
  });

  it('a missing heartbeat topic is an error and a down health, and notifications still work', async () => {
    const errors: KeyshiftError[] = [];
    const seen: string[][] = [];
    const pull = await gcpPubSubPull({
      instanceSubscription: { topic },
      clientConfig: { projectId: PROJECT },
      heartbeat: { topic: `projects/${PROJECT}/topics/${uniqueName('no-heartbeat')}`, intervalMs: 60_000 },
      onInvalidate: (names) => void seen.push([...names]),
      onError: (e) => void errors.push(e),
    });
    try {
      await until(() => errors.length > 0, 'the heartbeat failure');
      assert.equal(errors[0]!.code, ErrorCodes.NOTIFICATIONS_UNAVAILABLE);
      assert.match(errors[0]!.message, /heartbeat/);
      assert.equal(pull.health.state, 'down');
      await seed(f, 'HB_MISSING_KEY', 'v1');
      await until(() => seen.some((n) => n.includes('HB_MISSING_KEY')), 'the notification');
    } finally {
      await pull.close();
    }
  });
});
