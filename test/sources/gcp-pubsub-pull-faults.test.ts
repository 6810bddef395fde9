/**
 * Faults of the Pub/Sub path with the official @google-cloud/pubsub client (issue 13):
 * - Google's Pub/Sub emulator gone mid-run: a private emulator, killed while a manager
 *   reads through the pull source. Reads keep serving, the health goes quiet then down,
 *   an error event and a metric say so, and the entry falls back to its own TTL polling.
 * - Quota exhausted at start-up: the emulator cannot fail on quota, so a loopback gRPC
 *   stand-in of Pub/Sub's Subscriber service answers CreateSubscription with
 *   RESOURCE_EXHAUSTED (the official client pointed at it); start-up goes on, reads serve,
 *   and keyshift asks again later.
 * The manager runs on the fake clock; waits for what the network does poll on a real
 * timer (which holds the event loop open).
 */
import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { createAdminHandler } from '../../src/admin/index.ts';
import { NotificationHealth } from '../../src/core/notification-health.ts';
import { ErrorCodes, type KeyshiftError } from '../../src/errors.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { gcpPubSubPull } from '../../src/sources/gcp-pubsub-pull.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { createFakeClock, memorySource } from '../../src/testing/index.ts';
import { type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';
import { type PubSubEmulator, skipWithoutPubSub, startPubSubEmulator, uniqueName } from '../_pubsub-emulator.ts';

const skip = skipWithoutPubSub(true);
const TOKEN = 'fault-admin-token-0123456789abcdef';

/** Resolves when `check()` is true; polls on a real timer that holds the event loop open. */
async function until(check: () => boolean | Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Pub/Sub emulator gone mid-run', { skip, timeout: 300_000 }, () => {
  let emulator: PubSubEmulator;
  let admin: PubSub;
  let f: Fixture;
  let topic: string;

  before(async () => {
    emulator = await startPubSubEmulator();
    admin = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host });
    topic = `projects/${PROJECT}/topics/${uniqueName('gone')}`;
    await admin.createTopic(topic);
    f = await startFixture();
  });

  after(async () => {
    await admin?.close().catch(() => undefined);
    await f?.close();
    await emulator?.stop();
  });

  it('reads keep serving, health goes quiet then down with an error event and a metric, the entry falls back to its TTL', async () => {
    await seed(f, 'FAULT_KEY', 'v1-value');
    const clock = createFakeClock();
    const errors: KeyshiftError[] = [];
    const source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
    const pull = await gcpPubSubPull({
      instanceSubscription: { topic, closeTimeoutMs: 1_000 },
      clientConfig: { projectId: PROJECT, apiEndpoint: emulator.host },
      heartbeat: { intervalMs: 20_000, timeoutMs: 3_000 },
      health: new NotificationHealth({ clock, quietAfterMs: 50_000 }),
      clock,
      source,
      onError: (e) => void errors.push(e),
    });
    const ks = createKeyshift(defineSecrets({ FAULT_KEY: { type: t.string(), ttlMs: 60_000 } }), {
      source,
      clock,
      notifications: pull.health,
      logger: false,
      random: () => 0.5,
      // The store call's deadline is on the fake clock, the call itself real: a deadline shorter
      // than the fake time ticked in one go would expire a fetch before the emulator could answer.
      fetchTimeoutMs: 10 * 60_000,
    });
    const handler = await createAdminHandler({ managers: ks, token: TOKEN, clock, auditLog: () => {}, alerts: { logger: false } });
    handler.alerts.watchNotifications('fault', pull);
    const metric = async (): Promise<string> =>
      (await handler(new Request('http://admin.test/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }), { clientAddress: '10.0.0.1' })).text();
    const fetches: string[] = [];
    ks.on('fetch', (e) => void fetches.push(e.trigger));
    try {
      await ks.ready();
      // the heartbeat sent at start came back through the emulator: the TTL rests
      await until(() => pull.health.state === 'healthy', 'the first heartbeat back');
      assert.equal(pull.health.ttlMs(60_000), 12 * 60 * 60_000);
      assert.ok(pull.status().listening);
      assert.match(await metric(), /keyshift_notifications_state\{manager="fault",state="healthy"\} 1/);

      await emulator.stop(); // gone: its whole process group
      await f.client.addSecretVersion({ parent: f.secret('FAULT_KEY'), payload: { data: Buffer.from('v2-value') } });
      assert.equal(ks.get('FAULT_KEY'), 'v1-value', 'reads keep serving');

      // no heartbeat comes back: quiet after 50 s (fake)
      await clock.tick(60_000);
      assert.ok(['quiet', 'down'].includes(pull.health.state), pull.health.state);
      assert.equal(handler.alerts.firing()[0]?.rule, 'notifications-quiet');
      // a heartbeat publish that Pub/Sub does not answer within 3 s (real) is an error event, and the path is down
      await until(() => errors.length > 0, 'the heartbeat failure');
      assert.equal(errors[0]!.code, ErrorCodes.NOTIFICATIONS_UNAVAILABLE);
      assert.match(errors[0]!.message, /heartbeat .* was not sent: (Pub\/Sub did not answer within 3000 ms|publishing failed); entries refresh at their own TTLs/);
      await until(() => pull.health.state === 'down', 'the health down');
      assert.equal(pull.health.ttlMs(60_000), 60_000, 'back on the declared TTL');
      const text = await metric();
      assert.match(text, /keyshift_notifications_state\{manager="fault",state="down"\} 1/);
      assert.match(text, /keyshift_notification_errors_total\{manager="fault"\} [1-9]/);
      assert.equal(ks.get('FAULT_KEY'), 'v1-value', 'still serving');

      // the entry was rescheduled at its own TTL (60 s, jitter at 0.5): TTL polling brings version 2
      const before = fetches.length;
      await clock.tick(70_000);
      await until(() => ks.status().entries[0]?.version === '2', 'version 2 by TTL polling');
      assert.equal(ks.get('FAULT_KEY'), 'v2-value');
      assert.ok(fetches.slice(before).includes('ttl'), `fetch triggers after the fault: ${fetches.slice(before).join(',')}`);
    } finally {
      await pull.close(); // bounded (closeTimeoutMs) even with Pub/Sub gone
      await handler.close();
      await ks.close();
    }
  });
});

/** A loopback Subscriber service whose CreateSubscription answers RESOURCE_EXHAUSTED (what a project at its subscription quota gets). */
async function quotaStandIn(): Promise<{ endpoint: string; creates: string[]; close(): Promise<void> }> {
  const grpc = await import('@grpc/grpc-js');
  const loader = await import('@grpc/proto-loader');
  const require = createRequire(import.meta.url);
  const pubsubMain = require.resolve('@google-cloud/pubsub');
  const protos = join(dirname(pubsubMain), '..', 'protos');
  const gaxProtos = join(dirname(createRequire(pubsubMain).resolve('google-gax')), '..', 'protos');
  const definition = await loader.load('google/pubsub/v1/pubsub.proto', { includeDirs: [protos, gaxProtos], keepCase: false, longs: String, enums: String, defaults: false, oneofs: true });
  const subscriber = definition['google.pubsub.v1.Subscriber'] as import('@grpc/grpc-js').ServiceDefinition;
  const creates: string[] = [];
  const server = new grpc.Server();
  const unimplemented = (_call: unknown, callback: (error: { code: number; details: string }) => void) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: 'not in this stand-in' });
  const handlers: Record<string, unknown> = {};
  for (const name of Object.keys(subscriber)) handlers[name] = unimplemented;
  handlers.CreateSubscription = (call: { request: { name: string } }, callback: (error: { code: number; details: string }) => void) => {
    creates.push(call.request.name);
    callback({ code: grpc.status.RESOURCE_EXHAUSTED, details: 'Your project has exceeded a limit: (type="subscriptionsPerProject", current=10000, maximum=10000).' });
  };
  server.addService(subscriber, handlers as import('@grpc/grpc-js').UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    endpoint: `127.0.0.1:${port}`,
    creates,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

describe('Pub/Sub quota exhausted at start-up', { timeout: 120_000 }, () => {
  it('KS_ERR_NOTIFICATIONS_UNAVAILABLE naming the quota, start-up and reads go on on TTL polling, and the subscription is asked for again later', async () => {
    const standIn = await quotaStandIn();
    const clock = createFakeClock();
    const errors: KeyshiftError[] = [];
    const store = memorySource({ values: { QUOTA_KEY: 'v1' } });
    const pull = await gcpPubSubPull({
      instanceSubscription: { topic: `projects/${PROJECT}/topics/secret-events`, closeTimeoutMs: 500 },
      clientConfig: { projectId: PROJECT, apiEndpoint: standIn.endpoint },
      retryMs: 30_000,
      clock,
      onInvalidate: () => assert.fail('no notification can come'),
      onError: (e) => void errors.push(e),
    });
    const ks = createKeyshift(defineSecrets({ QUOTA_KEY: { type: t.string(), ttlMs: 60_000 } }), {
      source: store,
      clock,
      notifications: pull.health,
      logger: false,
      random: () => 0.5,
    });
    try {
      // gcpPubSubPull resolved: the failure was reported, not thrown
      assert.deepEqual(standIn.creates, [pull.subscription]);
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, ErrorCodes.NOTIFICATIONS_UNAVAILABLE);
      assert.equal(errors[0]!.details.grpcCode, 8);
      assert.match(errors[0]!.message, /was not created: the Pub\/Sub quota is exhausted; entries refresh at their own TTLs and keyshift tries again/);
      assert.equal(errors[0]!.message.includes('subscriptionsPerProject'), false, "the service's own text is not passed on");
      assert.equal(pull.health.state, 'down');
      assert.equal(pull.status().listening, false);

      await ks.ready();
      assert.equal(ks.get('QUOTA_KEY'), 'v1');
      assert.equal(pull.health.ttlMs(60_000), 60_000);
      store.set('QUOTA_KEY', 'v2');
      await clock.tick(70_000); // its own TTL (60 s at jitter 0.5) serves the change
      await until(() => ks.get('QUOTA_KEY') === 'v2', 'v2 by TTL polling', 30_000);

      // retryMs (30 s) passed during that tick: keyshift asked again (and was refused again)
      await until(() => standIn.creates.length >= 2, 'the second CreateSubscription', 30_000);
      await until(() => errors.length >= 2, 'the second error', 30_000);
      assert.equal(errors[1]!.details.grpcCode, 8);
      assert.equal(pull.health.state, 'down');
    } finally {
      await pull.close();
      await ks.close();
      await standIn.close();
    }
  });
});
