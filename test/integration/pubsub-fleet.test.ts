/**
 * A fleet on the emulators: N instance processes, each with the official Secret Manager
 * client against keyshift's emulator and a per-instance pull subscription (made by
 * keyshift) on Google's Pub/Sub emulator. A version added with the official client is
 * served by every instance; close() leaves no subscription; a SIGKILLed instance leaves
 * one that Pub/Sub expires by its policy.
 */
import * as assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { collectFleet, type FleetReport } from '../../src/fleet/index.ts';
import { type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';
import { runProcess } from '../_process.ts';
import { type Instance, startInstance as startFleetInstance } from './_fleet-instance-process.ts';
import { type PubSubEmulator, skipWithoutPubSub, uniqueName, usePubSubEmulator } from '../_pubsub-emulator.ts';

const skip = skipWithoutPubSub();
const INSTANCES = 3;
const ROUNDS = 15;
const SECRET = 'FLEET_API_KEY';
const now = (): number => performance.timeOrigin + performance.now();

const startInstance = (env: Record<string, string>): Instance => startFleetInstance(env, 60_000);

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('A fleet of instances on the Secret Manager and Pub/Sub emulators', { skip }, () => {
  let pubsubEmulator: PubSubEmulator;
  let admin: PubSub;
  let f: Fixture;
  let topic: string;
  let fleetTopic: string;
  const instances: Instance[] = [];

  before(async () => {
    pubsubEmulator = await usePubSubEmulator();
    admin = new PubSub({ projectId: PROJECT });
    topic = `projects/${PROJECT}/topics/${uniqueName('fleet')}`;
    await admin.createTopic(topic);
    fleetTopic = `projects/${PROJECT}/topics/${uniqueName('fleet-reports')}`;
    await admin.createTopic(fleetTopic);
    f = await startFixture({ pubsubTopics: [{ topic, clientConfig: { projectId: PROJECT } }] });
    await seed(f, SECRET, 'fake-v1');
  });

  after(async () => {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
    if (admin && topic) {
      const [subs] = await admin.topic(topic).getSubscriptions().catch(() => [[]] as never);
      for (const s of subs) await s.delete().catch(() => undefined);
      await admin.topic(topic).delete().catch(() => undefined);
      await admin.topic(fleetTopic).delete().catch(() => undefined);
      await admin.close();
    }
    await f?.close();
    await pubsubEmulator?.stop();
  });

  it(`${INSTANCES} instances serve every version added with the official client; close() leaves no subscription, a kill leaves one that expires`, async (t) => {
    const env = { SM_HOST: f.emulator.host, SM_PORT: String(f.emulator.port), TOPIC: topic, FLEET_TOPIC: fleetTopic, PROJECT, SECRET };
    for (let i = 0; i < INSTANCES; i++) instances.push(startInstance(env));
    const ready = await Promise.all(instances.map((i) => i.wait((l) => l.ready === true, 'ready')));
    const names = ready.map((r) => String(r.subscription));
    assert.equal(new Set(names).size, INSTANCES, 'one subscription per instance');
    assert.deepEqual(ready.map((r) => r.version), Array(INSTANCES).fill('1'));
    await Promise.all(instances.map((i) => i.wait((l) => l.health === 'healthy', 'a heartbeat back')));
    const [subs] = await admin.topic(topic).getSubscriptions();
    assert.deepEqual(subs.map((s) => s.name).sort(), [...names].sort());

    const toEach: number[] = [];
    const toEvery: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const version = String(round + 2);
      const started = now();
      await f.client.addSecretVersion({ parent: f.secret(SECRET), payload: { data: Buffer.from(`fake-v${version}`) } });
      const seen = await Promise.all(instances.map((i) => i.wait((l) => l.change === version, `version ${version}`)));
      const latencies = seen.map((l) => Number(l.at) - started);
      toEach.push(...latencies);
      toEvery.push(Math.max(...latencies));
      // the next version outside the 1 s coalescing window of forced refreshes
      await new Promise((resolve) => setTimeout(resolve, 1_100));
    }
    toEach.sort((a, b) => a - b);
    toEvery.sort((a, b) => a - b);
    t.diagnostic(
      `propagation over ${ROUNDS} versions x ${INSTANCES} instances (add call to change event): ` +
        `each instance p50 ${percentile(toEach, 50).toFixed(0)} ms p99 ${percentile(toEach, 99).toFixed(0)} ms; ` +
        `every instance p50 ${percentile(toEvery, 50).toFixed(0)} ms p99 ${percentile(toEvery, 99).toFixed(0)} ms`,
    );
    t.diagnostic(`every latency, sorted (ms): ${toEach.map((x) => x.toFixed(0)).join(" ")}`);
    assert.equal(toEach.length, ROUNDS * INSTANCES);

    // the fleet view, through Pub/Sub only: every instance serves the last version, none lags
    const last = String(ROUNDS + 1);
    const cli = runProcess(
      process.execPath,
      ['--import', 'tsx', new URL('../../src/cli/main.ts', import.meta.url).pathname, 'fleet', '--fleet-topic', fleetTopic, '--ping-topic', topic, '--json', '--listen-ms', '20000', '--wait-for', `${SECRET}=${last}`, '--instances', String(INSTANCES)],
      { env: { ...process.env, GOOGLE_CLOUD_PROJECT: PROJECT } },
    );
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    const view = JSON.parse(run.stdout) as { ok: boolean; instances: Array<{ instanceId: string; service: string; lagging: boolean; entries: Array<{ name: string; version: string }> }> };
    assert.equal(view.ok, true);
    assert.deepEqual(view.instances.map((i) => i.instanceId).sort(), ready.map((r) => String(r.instanceId)).sort());
    for (const i of view.instances) {
      assert.equal(i.service, 'fleet-test');
      assert.equal(i.lagging, false);
      assert.deepEqual(i.entries.map((e) => [e.name, e.version]), [[SECRET, last]]);
    }

    // convergence through the same path (what `keyshift fleet --wait-for` measures), no URL per instance
    const next = String(ROUNDS + 2);
    let pinged = 0;
    let added = 0;
    const convergedAfter = new Map<string, number>();
    const serves = (r: FleetReport) => r.entries.some((e) => e.name === SECRET && e.version === next);
    let allPinged: () => void = () => {};
    const pingedAll = new Promise<void>((resolve) => (allPinged = resolve));
    const collecting = collectFleet({
      fleetTopic,
      pingTopic: topic,
      listenMs: 30_000,
      clientConfig: { projectId: PROJECT },
      onReport: (r) => {
        if (r.reason === 'ping' && ++pinged >= INSTANCES) allPinged();
        if (added > 0 && serves(r) && !convergedAfter.has(r.instance.instanceId)) convergedAfter.set(r.instance.instanceId, now() - added);
      },
      until: (all) => all.size >= INSTANCES && [...all.values()].every(serves),
    });
    await pingedAll;
    added = now();
    await f.client.addSecretVersion({ parent: f.secret(SECRET), payload: { data: Buffer.from(`fake-v${next}`) } });
    const reports = await collecting;
    assert.equal([...reports.values()].filter(serves).length, INSTANCES);
    t.diagnostic(
      `convergence seen through fleet reports on Pub/Sub (add call to report received): ${[...convergedAfter.values()].map((ms) => ms.toFixed(0)).join(', ')} ms`,
    );

    // two stop cleanly, one is killed without close()
    const [a, b, killed] = instances as [Instance, Instance, Instance];
    for (const i of [a, b]) i.child.stdin?.write('close\n');
    const closed = await Promise.all([a, b].map((i) => i.wait((l) => l.closed === true, 'closed')));
    t.diagnostic(`close() took ${closed.map((c) => Number(c.closeMs).toFixed(0)).join(', ')} ms (subscription deleted)`);
    const exited = new Promise((resolve) => killed.child.once('exit', resolve));
    killed.child.kill('SIGKILL');
    await exited;
    const [left] = await admin.topic(topic).getSubscriptions();
    assert.deepEqual(
      left.map((s) => s.name),
      [names[2]],
      'the instances closed cleanly left nothing; the killed one left its own',
    );
    const [meta] = await admin.subscription(names[2]!).getMetadata();
    assert.equal(Number(meta.expirationPolicy?.ttl?.seconds), 86_400, 'Pub/Sub removes it after a day without a subscriber');
    assert.equal(Number(meta.messageRetentionDuration?.seconds), 600);
    t.diagnostic(`subscriptions left: 0 after close(); 1 after SIGKILL, with expirationPolicy.ttl ${meta.expirationPolicy?.ttl?.seconds} s`);
  });
});
