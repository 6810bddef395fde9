// Secret Manager's rotation schedule, end to end on the emulator: CreateSecret and
// UpdateSecret take `rotation` through the official client, the emulator sends
// SECRET_ROTATE push envelopes at each rotation time, the rotation scheduler's push
// endpoint rotates the secret, and two keyshift instances reading the emulator through
// the real client serve each new version by push.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import { createRotationScheduler, type RotationScheduler } from '../../src/rotation/staged/rotation-scheduler.ts';
import type { RotationResult } from '../../src/rotation/staged/rotation-runner.ts';
import { gcpPubSubPushHandler } from '../../src/sources/gcp-pubsub-push.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { codeOf, type Fixture, PROJECT, startFixture } from '../emulator/_fixture.ts';
import { type PushServer, startPushServer } from '../emulator/_push-server.ts';
import { waitUntil } from './_pg-load.ts';
import { spread } from './_rotation-fleet.ts';

const TOKEN = 'fake-push-token-0123456789abcdef';
const TOPIC = `projects/${PROJECT}/topics/secret-rotations`;
const PERIOD_MS = 700;
const INVALID_ARGUMENT = 3;

const declaration = defineSecrets({ CHANGENOW_API_KEY: { type: t.string(), category: 'api-key', ttlMs: 60 * 60_000 } });

async function startInstance(f: Fixture) {
  const source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
  const ks = createKeyshift(declaration, { source, logger: false, minRefreshIntervalMs: 50 });
  const push: PushServer = await startPushServer(gcpPubSubPushHandler({ source, token: TOKEN }));
  const unsubscribe = f.emulator.addPushSubscription({ url: push.url, bearerToken: TOKEN });
  await ks.ready();
  return {
    ks,
    async close() {
      unsubscribe();
      await ks.close();
      await push.close();
    },
  };
}

const seconds = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

describe('Emulator rotation schedule and the SECRET_ROTATE trigger', () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture({ project: PROJECT });
  });
  after(() => f.close());

  it('accepts rotation on CreateSecret and UpdateSecret as the real API does, and reports it', async () => {
    const parent = `projects/${PROJECT}`;
    const next = Date.now() + 60 * 60_000;
    const rotation = { nextRotationTime: seconds(next), rotationPeriod: { seconds: 3600 } };
    assert.equal(
      await codeOf(f.client.createSecret({ parent, secretId: 'NO_TOPIC', secret: { replication: { automatic: {} }, rotation } })),
      INVALID_ARGUMENT,
      'a rotation needs a topic to notify',
    );
    const [created] = await f.client.createSecret({ parent, secretId: 'SCHEDULED', secret: { replication: { automatic: {} }, topics: [{ name: TOPIC }], rotation } });
    assert.equal(Number(created.rotation?.nextRotationTime?.seconds), Math.floor(next / 1000));
    assert.equal(Number(created.rotation?.rotationPeriod?.seconds), 3600);
    const [got] = await f.client.getSecret({ name: f.secret('SCHEDULED') });
    assert.equal(Number(got.rotation?.rotationPeriod?.seconds), 3600);
    assert.deepEqual(got.topics?.map((topic) => topic.name), [TOPIC]);

    const [updated] = await f.client.updateSecret({
      secret: { name: f.secret('SCHEDULED'), rotation: { nextRotationTime: seconds(next + 1000), rotationPeriod: { seconds: 7200 } }, labels: { team: 'payments' } },
      updateMask: { paths: ['rotation', 'labels'] },
    });
    assert.equal(Number(updated.rotation?.rotationPeriod?.seconds), 7200);
    assert.deepEqual(updated.labels, { team: 'payments' });
    const [cleared] = await f.client.updateSecret({ secret: { name: f.secret('SCHEDULED') }, updateMask: { paths: ['rotation'] } });
    assert.equal(cleared.rotation, null);
    const [listed] = await f.client.listSecrets({ parent });
    assert.equal(listed.find((s) => s.name === f.secret('SCHEDULED'))?.rotation, null);
  });

  it('sends SECRET_ROTATE on the schedule; the scheduler rotates each time and both instances serve every new version', async (t) => {
    const parent = `projects/${PROJECT}`;
    await f.client.createSecret({ parent, secretId: 'CHANGENOW_API_KEY', secret: { replication: { automatic: {} }, topics: [{ name: TOPIC }] } });
    await f.client.addSecretVersion({ parent: f.secret('CHANGENOW_API_KEY'), payload: { data: Buffer.from('fake-changenow-key-1') } });
    const [a, b] = await Promise.all([startInstance(f), startInstance(f)]);
    const scheduler: RotationScheduler = createRotationScheduler({
      store: f.emulator.store,
      rotations: [{ name: 'CHANGENOW_API_KEY', rotator: randomSecret({ prefix: 'cn_fake_' }) }],
      start: false,
      logger: false,
    });
    const rotatePush = await startPushServer(scheduler.pushHandler({ token: TOKEN }));
    const unsubscribe = f.emulator.addPushSubscription({ url: rotatePush.url, queryToken: TOKEN });
    const results: Array<{ result: RotationResult; at: number }> = [];
    scheduler.on('result', ({ result }) => results.push({ result, at: performance.now() }));
    t.after(async () => {
      unsubscribe();
      await scheduler.close();
      await rotatePush.close();
      await Promise.all([a.close(), b.close()]);
    });

    // The schedule: first reminder in 300 ms, then every 700 ms (the real service's minimum is 1 h).
    const first = Date.now() + 300;
    await f.client.updateSecret({
      secret: { name: f.secret('CHANGENOW_API_KEY'), rotation: { nextRotationTime: seconds(first), rotationPeriod: seconds(PERIOD_MS) } },
      updateMask: { paths: ['rotation'] },
    });
    const propagation: number[] = [];
    const requests = { ok: 0, failed: 0 };
    const reader = setInterval(() => {
      for (const ks of [a.ks, b.ks]) {
        try {
          if (ks.get('CHANGENOW_API_KEY').reveal().length > 0) requests.ok++;
        } catch {
          requests.failed++;
        }
      }
    }, 1);
    t.after(() => clearInterval(reader));
    for (let n = 1; n <= 3; n++) {
      await waitUntil(`rotation ${n}`, () => results.filter((r) => r.result.outcome === 'finished').length >= n);
      const done = results.filter((r) => r.result.outcome === 'finished')[n - 1]!;
      const version = String(done.result.version);
      await waitUntil(`both instances on version ${version}`, () => [a, b].every((i) => i.ks.status().entries[0]?.version === version));
      const reminder = rotatePush.received.filter((e) => (e as { message?: { attributes?: { eventType?: string } } }).message?.attributes?.eventType === 'SECRET_ROTATE')[n - 1] as {
        message: { publishTime: string; attributes: Record<string, string>; data: string };
      };
      assert.equal(reminder.message.attributes.secretId, f.secret('CHANGENOW_API_KEY'));
      const data = JSON.parse(Buffer.from(reminder.message.data, 'base64').toString('utf8')) as { rotation?: { rotationPeriod?: string } };
      assert.equal(data.rotation?.rotationPeriod, `${PERIOD_MS / 1000}s`);
      propagation.push(Date.now() - Date.parse(reminder.message.publishTime));
    }
    clearInterval(reader);
    await f.client.updateSecret({ secret: { name: f.secret('CHANGENOW_API_KEY') }, updateMask: { paths: ['rotation'] } });
    const reminders = rotatePush.received.filter((e) => (e as { message?: { attributes?: { eventType?: string } } }).message?.attributes?.eventType === 'SECRET_ROTATE').length;
    const finished = results.filter((r) => r.result.outcome === 'finished').length;
    assert.ok(finished >= 3 && finished <= reminders, `${finished} rotations for ${reminders} reminders`);
    assert.equal((await f.emulator.store.getSecret('CHANGENOW_API_KEY')).latest, 1 + finished, 'one new version per reminder acted on');
    assert.equal(requests.failed, 0);
    t.diagnostic(
      `emulator schedule (every ${PERIOD_MS} ms): ${reminders} SECRET_ROTATE reminders, ${finished} rotations, ${requests.failed} failed of ${requests.ok + requests.failed} reads during them; ` +
        `reminder published to both instances serving the new version: ${spread(propagation)}`,
    );
  });
});
