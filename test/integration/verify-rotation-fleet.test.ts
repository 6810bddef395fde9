/**
 * `keyshift verify-rotation --fleet-topic`: convergence measured through the fleet reports
 * on Pub/Sub, with no URL per instance. Three instance processes (the official Secret
 * Manager client against keyshift's emulator, per-instance pull subscriptions on Google's
 * Pub/Sub emulator, a fleet reporter); one of them is deaf to the entry's changes (its
 * pull source hears pings and heartbeats but invalidates nothing), so it lags. The CLI runs as its own process and puts the version through gcp://.
 */
import * as assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import type { FleetRotationReport } from '../../src/fleet/index.ts';
import { runInProcess } from '../cli/_run.ts';
import { type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';
import { runProcess } from '../_process.ts';
import { type Instance, startInstance as startFleetInstance } from './_fleet-instance-process.ts';
import { type PubSubEmulator, skipWithoutPubSub, uniqueName, usePubSubEmulator } from '../_pubsub-emulator.ts';

const skip = skipWithoutPubSub();
const SECRET = 'VERIFY_FLEET_KEY';
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;

const startInstance = (env: Record<string, string>): Instance => startFleetInstance(env, 90_000);

describe('keyshift verify-rotation through the fleet path', { skip, timeout: 600_000 }, () => {
  let pubsubEmulator: PubSubEmulator;
  let admin: PubSub;
  let f: Fixture;
  let topic: string;
  let fleetTopic: string;
  const instances: Instance[] = [];

  before(async () => {
    pubsubEmulator = await usePubSubEmulator();
    admin = new PubSub({ projectId: PROJECT });
    topic = `projects/${PROJECT}/topics/${uniqueName('verify-fleet')}`;
    fleetTopic = `projects/${PROJECT}/topics/${uniqueName('verify-fleet-reports')}`;
    await admin.createTopic(topic);
    await admin.createTopic(fleetTopic);
    f = await startFixture({ pubsubTopics: [{ topic, clientConfig: { projectId: PROJECT } }] });
    await seed(f, SECRET, 'fake-v1');
  });

  after(async () => {
    for (const i of instances) if (i.child.exitCode === null) i.child.kill('SIGKILL');
    if (admin && topic) {
      const [subs] = await admin.topic(topic).getSubscriptions().catch(() => [[]] as never);
      for (const s of subs) await s.delete().catch(() => undefined);
      const [views] = await admin.topic(fleetTopic).getSubscriptions().catch(() => [[]] as never);
      for (const s of views) await s.delete().catch(() => undefined);
      await admin.topic(topic).delete().catch(() => undefined);
      await admin.topic(fleetTopic).delete().catch(() => undefined);
      await admin.close();
    }
    await f?.close();
    await pubsubEmulator?.stop();
  });

  it('measures convergence of every instance heard on the fleet topic, names the one that lags, and exits 1 for it, 0 once all converge', async (t) => {
    const env = { SM_HOST: f.emulator.host, SM_PORT: String(f.emulator.port), TOPIC: topic, FLEET_TOPIC: fleetTopic, PROJECT, SECRET };
    instances.push(startInstance(env), startInstance(env), startInstance({ ...env, DEAF: '1' }));
    const ready = await Promise.all(instances.map((i) => i.wait((l) => l.ready === true, 'ready')));
    await Promise.all(instances.map((i) => i.wait((l) => l.health === 'healthy', 'a heartbeat back')));
    const ids = ready.map((r) => String(r.instanceId));
    const deaf = ids[2]!;

    const cliEnv = { ...process.env, GOOGLE_CLOUD_PROJECT: PROJECT };
    const store = ['--store', `gcp://${PROJECT}`, '--endpoint', `${f.emulator.host}:${f.emulator.port}`];
    const fleet = ['--fleet-topic', fleetTopic, '--ping-topic', topic];
    const first = await runProcess(
      process.execPath,
      ['--import', 'tsx', CLI, 'verify-rotation', '--entry', SECRET, ...fleet, '--instances', '3', '--listen-ms', '30000', '--deadline-ms', '15000', ...store, '--json'],
      { env: cliEnv },
    ).done;
    assert.equal(first.code, 1, `a lagging instance fails the check: ${first.stderr.slice(-2000)}`);
    const report = JSON.parse(first.stdout) as FleetRotationReport;
    assert.equal(report.entry, SECRET);
    assert.equal(report.version, '2');
    assert.equal(report.ok, false);
    assert.equal(report.fleetTopic, fleetTopic);
    assert.equal(report.expectedInstances, 3);
    assert.deepEqual(report.instances.map((r) => r.instance).sort(), [...ids].sort(), 'the instances heard are the three running');
    assert.deepEqual(report.lagging, [deaf]);
    for (const r of report.instances) {
      if (r.instance === deaf) {
        assert.equal(r.converged, false);
        assert.equal(r.version, '1', 'it still serves the old version');
      } else {
        assert.equal(r.converged, true, r.instance);
        assert.equal(r.version, '2');
        assert.ok(typeof r.propagationMs === 'number' && r.propagationMs >= 0);
      }
    }
    assert.ok(report.propagationMs !== undefined && report.propagationMs.max >= report.propagationMs.p50);
    t.diagnostic(`put to fleet report of the new version (2 instances): p50 ${report.propagationMs.p50.toFixed(0)} ms, max ${report.propagationMs.max.toFixed(0)} ms`);
    // what the CLI reported matches what the two good instances did: they changed to version 2
    await Promise.all(instances.slice(0, 2).map((i) => i.wait((l) => l.change === '2', 'version 2')));
    assert.equal(instances[2]!.lines.some((l) => l.change === '2'), false, 'the deaf instance never heard it');
    assert.equal(first.stdout.includes('fake-v'), false);

    // the deaf one stops: the fleet heard now converges, text output
    instances[2]!.child.stdin?.write('close\n');
    await instances[2]!.wait((l) => l.closed === true, 'closed');
    const second = await runProcess(
      process.execPath,
      ['--import', 'tsx', CLI, 'verify-rotation', '--entry', SECRET, ...fleet, '--instances', '2', '--listen-ms', '30000', '--deadline-ms', '30000', ...store],
      { env: cliEnv },
    ).done;
    assert.equal(second.code, 0, `${second.stdout}\n${second.stderr.slice(-2000)}`);
    assert.match(second.stdout, new RegExp(`${SECRET} version 3: 2/2 converged within 30000 ms; propagation p50 \\d+ ms, p99 \\d+ ms, max \\d+ ms; 0 failed requests; OK`));
    assert.match(second.stdout, /2 instances heard of 2 expected; lagging: none/);
    t.diagnostic(second.stdout.trim().split('\n').slice(-2).join(' | '));
    await Promise.all(instances.slice(0, 2).map((i) => i.wait((l) => l.change === '3', 'version 3')));
    const [views] = await admin.topic(fleetTopic).getSubscriptions();
    assert.deepEqual(views, [], 'the CLI deleted its fleet-view subscriptions');
  });
});

describe('keyshift verify-rotation --fleet-topic: usage', () => {
  it('refuses bad topics, a URL list, --poll-ms, and fleet flags without --fleet-topic (exit 2), before touching any store', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'ks-verify-fleet-'));
    try {
      for (const [argv, message] of [
        [['--fleet-topic', 'not-a-topic'], /--fleet-topic must be projects\/P\/topics\/T/],
        [['--fleet-topic', 'projects/p/topics/fleet', '--ping-topic', 'x'], /--ping-topic must be projects\/P\/topics\/T/],
        [['--fleet-topic', 'projects/p/topics/fleet', '--instances', 'http://a:1'], /--instances takes the number of instances expected/],
        [['--fleet-topic', 'projects/p/topics/fleet', '--poll-ms', '10'], /--poll-ms goes with --instances URL1,URL2/],
        [['--fleet-topic', 'projects/p/topics/fleet', '--listen-ms', '5'], /--listen-ms must be 100 to 3600000/],
        [['--ping-topic', 'projects/p/topics/s', '--instances', 'http://a:1'], /--ping-topic goes with --fleet-topic/],
      ] as const) {
        const run = await runInProcess(['verify-rotation', '--entry', 'API_KEY', ...argv], { env: {}, cwd });
        assert.equal(run.code, 2, `${argv.join(' ')}: ${run.stderr}`);
        assert.match(run.stderr, message);
      }
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
