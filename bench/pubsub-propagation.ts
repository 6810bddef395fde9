/**
 * Issue 13: a new version reaches every instance (goal: p99 under 250 ms on loopback, from
 * the store's event to every instance serving it). Starts Google's Pub/Sub emulator
 * (test/_pubsub-emulator.ts; or uses PUBSUB_EMULATOR_HOST), keyshift's Secret Manager
 * emulator publishing its notifications to a topic there, and N instance processes
 * (bench/_pubsub-propagation-instance.ts: gcpPubSubPull with a per-instance subscription and
 * a manager). Adds K versions with the official Secret Manager client, 1.1 s apart (outside
 * the 1 s coalescing window of forced refreshes), and measures from the add call to each
 * instance's change event. In the same run, the baseline: a message published with the
 * official client to another topic, to a bare subscriber (client defaults, no keyshift) in
 * each instance process. Prints a markdown section with the load average next to the figures.
 *
 * Run:  node --import tsx bench/pubsub-propagation.ts
 *       BENCH_PUBSUB_INSTANCES=10 BENCH_PUBSUB_VERSIONS=20 node --import tsx bench/pubsub-propagation.ts
 * Needs gcloud's Pub/Sub emulator and a Java runtime (skips with a note when missing); with
 * PUBSUB_EMULATOR_HOST set it uses that emulator instead of starting one. The rounds take
 * about K x 1.1 s (22 s at the defaults); start-up (the emulator's JVM, N tsx processes) is
 * the rest: 36-108 s measured on 2 cores shared at load average 10-40, far less when idle.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PubSub, type Topic } from '@google-cloud/pubsub';
import { PROJECT, seed, startFixture } from '../test/emulator/_fixture.ts';
import { pubsubEmulatorMissing, uniqueName, usePubSubEmulator } from '../test/_pubsub-emulator.ts';
import { fmt, percentile, table } from './_measure.ts';

const INSTANCES = Number(process.env.BENCH_PUBSUB_INSTANCES ?? 10);
const VERSIONS = Number(process.env.BENCH_PUBSUB_VERSIONS ?? 20);
const SPACING_MS = 1_100;
const ROUND_TIMEOUT_MS = 10_000;
const SECRET = 'PROPAGATION_API_KEY';
const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const load = (): string => loadavg().map((l) => l.toFixed(2)).join(', ');

type Line = Record<string, unknown> & { at?: number };

interface Instance {
  child: ChildProcess;
  lines: Line[];
  /** The first line after index `from` that passes `check`, or undefined after `timeoutMs`. */
  next(from: number, check: (line: Line) => boolean, timeoutMs: number): Promise<Line | undefined>;
}

function startInstance(env: Record<string, string>): Instance {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./_pubsub-propagation-instance.ts', import.meta.url))], {
    env: { ...process.env, METADATA_SERVER_DETECTION: 'none', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: Line[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      return;
    }
    for (const wake of [...waiters]) wake();
  });
  const next = (from: number, check: (line: Line) => boolean, timeoutMs: number) =>
    new Promise<Line | undefined>((resolve) => {
      const done = (hit: Line | undefined): void => {
        clearTimeout(timer);
        waiters.delete(look);
        resolve(hit);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const look = (): void => {
        const hit = lines.slice(from).find(check);
        if (hit) done(hit);
      };
      waiters.add(look);
      look();
    });
  return { child, lines, next };
}

const stats = (values: readonly number[], digits = 0): string[] => [
  fmt(percentile(values, 0.5), digits),
  fmt(percentile(values, 0.99), digits),
  fmt(Math.max(...values), digits),
  String(values.length),
];

const missing = pubsubEmulatorMissing();
if (missing !== undefined) {
  console.log(`## Pub/Sub propagation\n\nSkipped: ${missing}.`);
  process.exit(0);
}

const started = now();
const loadBefore = load();
const emulator = await usePubSubEmulator();
const admin = new PubSub({ projectId: PROJECT });
const topicName = `projects/${PROJECT}/topics/${uniqueName('propagation')}`;
const bareTopicName = `projects/${PROJECT}/topics/${uniqueName('propagation-bare')}`;
await admin.createTopic(topicName);
await admin.createTopic(bareTopicName);
// the baseline publisher: the official client, one message per publish (as the emulator's publisher)
const bareTopic: Topic = admin.topic(bareTopicName, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
// the emulator's own publisher client, watched: the moment it publishes the store's event
const eventClient = new PubSub({ projectId: PROJECT });
const publishedAt: number[] = [];
const topicOf = eventClient.topic.bind(eventClient);
eventClient.topic = ((name: string, options?: Parameters<PubSub['topic']>[1]) => {
  const topic = topicOf(name, options);
  const publishMessage = topic.publishMessage.bind(topic);
  topic.publishMessage = ((message: Parameters<Topic['publishMessage']>[0]) => {
    publishedAt.push(now());
    return publishMessage(message);
  }) as Topic['publishMessage'];
  return topic;
}) as PubSub['topic'];
const f = await startFixture({ pubsubTopics: [{ topic: topicName, client: eventClient }] });
await seed(f, SECRET, 'fake-v1');

const instances: Instance[] = [];
try {
  for (let i = 0; i < INSTANCES; i++) {
    const bareSubscription = `projects/${PROJECT}/subscriptions/${uniqueName('bare')}`;
    await admin.topic(bareTopicName).createSubscription(bareSubscription);
    instances.push(
      startInstance({
        SM_HOST: f.emulator.host,
        SM_PORT: String(f.emulator.port),
        TOPIC: topicName,
        BARE_SUBSCRIPTION: bareSubscription,
        PROJECT,
        SECRET,
      }),
    );
  }
  const ready = await Promise.all(instances.map((i) => i.next(0, (l) => l.ready === true, 240_000)));
  if (ready.some((r) => r === undefined)) throw new Error('an instance did not start in 240 s');
  const startupS = (now() - started) / 1000;

  const toEach: number[] = [];
  const toEvery: number[] = [];
  const toMessage: number[] = [];
  const messageToChange: number[] = [];
  const fetchMs: number[] = [];
  const addMs: number[] = [];
  const cpuMs: number[] = [];
  const addToEvent: number[] = [];
  const fromEvent: number[] = [];
  const fromEventEvery: number[] = [];
  const bareEach: number[] = [];
  const bareEvery: number[] = [];
  let lost = 0;
  let bareLost = 0;
  for (let round = 0; round <= VERSIONS; round++) {
    const version = String(round + 2);
    const marks = instances.map((i) => i.lines.length);
    const published = publishedAt.length;
    const t0 = now();
    await f.client.addSecretVersion({ parent: f.secret(SECRET), payload: { data: Buffer.from(`fake-v${version}`) } });
    if (round > 0) addMs.push(now() - t0);
    while (publishedAt.length === published) await sleep(1);
    const event = publishedAt[published]!;
    if (round > 0) addToEvent.push(event - t0);
    const seen = await Promise.all(instances.map((i, k) => i.next(marks[k]!, (l) => l.change === version, ROUND_TIMEOUT_MS)));
    // the push fetch's event follows the change event
    await Promise.all(instances.map((i, k) => i.next(marks[k]!, (l) => l.fetch === 'push' && l.outcome === 'changed', 1_000)));
    const counted = round > 0; // round 0 warms every path (connections, the JIT)
    const latencies: number[] = [];
    for (const [k, change] of seen.entries()) {
      if (change === undefined) {
        if (counted) lost++;
        continue;
      }
      latencies.push(change.at! - t0);
      const lines = instances[k]!.lines.slice(marks[k]!);
      const message = lines.find((l) => l.message === true);
      const fetch = lines.find((l) => l.fetch === 'push' && l.outcome === 'changed');
      if (!counted) continue;
      fromEvent.push(change.at! - event);
      if (message) {
        toMessage.push(message.at! - event);
        messageToChange.push(change.at! - message.at!);
      }
      if (fetch) fetchMs.push(Number(fetch.ms));
      cpuMs.push(Number(change.cpuMs));
    }
    if (counted) {
      toEach.push(...latencies);
      if (latencies.length === INSTANCES) {
        toEvery.push(Math.max(...latencies));
        fromEventEvery.push(Math.max(...latencies) - (event - t0));
      }
    }

    // the baseline in the same round: publish -> a bare subscriber's callback, in the same processes
    const bareMarks = instances.map((i) => i.lines.length);
    const payload = `bare-${round}`;
    const b0 = now();
    await bareTopic.publishMessage({ data: Buffer.from(payload) });
    const bares = await Promise.all(instances.map((i, k) => i.next(bareMarks[k]!, (l) => l.bare === payload, ROUND_TIMEOUT_MS)));
    const bareLatencies = bares.flatMap((b) => (b === undefined ? [] : [b.at! - b0]));
    if (round > 0) {
      bareLost += INSTANCES - bareLatencies.length;
      bareEach.push(...bareLatencies);
      if (bareLatencies.length === INSTANCES) bareEvery.push(Math.max(...bareLatencies));
    }
    await sleep(Math.max(0, SPACING_MS - (now() - t0)));
  }
  const loadAfter = load();

  const ratio = percentile(fromEventEvery, 0.99) / percentile(bareEvery, 0.99);
  console.log(`## Pub/Sub propagation

### Issue 13: a new version to every instance, ${INSTANCES} instance processes × ${VERSIONS} versions (goal: p99 to every instance < 250 ms)

Google's Pub/Sub emulator, keyshift's Secret Manager emulator publishing to a topic on it, each instance with gcpPubSubPull({ instanceSubscription }) and a manager; versions added with the official client ${SPACING_MS} ms apart. Times in ms, from the call (the add, or the baseline's publish) to the event in each instance process. Load average (1, 5, 15 min): ${loadBefore} before, ${loadAfter} after, on ${(await import('node:os')).cpus().length} cores.

${table(
  ['path', 'p50', 'p99', 'max', 'samples'],
  [
    ['**keyshift: store event → change event, every instance (slowest per version)**', ...stats(fromEventEvery)],
    ['keyshift: store event → change event, each instance', ...stats(fromEvent)],
    ['keyshift: add call → change event, every instance', ...stats(toEvery)],
    ['keyshift: add call → change event, each instance', ...stats(toEach)],
    ['  the add call (until it returns)', ...stats(addMs)],
    ['  add call → store event (the emulator publishes)', ...stats(addToEvent)],
    ['  store event → notification handed to the source', ...stats(toMessage)],
    ['  notification → change event', ...stats(messageToChange)],
    ['  the push fetch (the access call)', ...stats(fetchMs)],
    ['  CPU time the instance spent from notification to change', ...stats(cpuMs, 1)],
    ['baseline: publish → bare subscriber callback, each instance', ...stats(bareEach)],
    ['baseline: publish → bare subscriber callback, every instance', ...stats(bareEvery)],
  ],
)}

p99 from the store event to every instance over the baseline's p99 to every instance: **${fmt(ratio, 2)}×**. Versions not served within ${ROUND_TIMEOUT_MS / 1000} s: ${lost}; baseline messages lost: ${bareLost}. Start-up (emulators and ${INSTANCES} processes): ${fmt(startupS, 1)} s.`);
} finally {
  for (const i of instances) i.child.stdin?.write('close\n');
  await Promise.all(
    instances.map(
      (i) =>
        new Promise<void>((resolve) => {
          if (i.child.exitCode !== null) return resolve();
          const timer = setTimeout(() => i.child.kill('SIGKILL'), 10_000);
          i.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  );
  for (const name of [topicName, bareTopicName]) {
    const [subs] = await admin.topic(name).getSubscriptions().catch(() => [[]] as never);
    for (const s of subs) await s.delete().catch(() => undefined);
    await admin.topic(name).delete().catch(() => undefined);
  }
  await admin.close();
  await f.close();
  await eventClient.close();
  await emulator.stop();
}
