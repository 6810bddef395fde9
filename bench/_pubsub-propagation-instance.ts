/**
 * One instance for bench/pubsub-propagation.ts: the official Secret Manager client against
 * keyshift's emulator, gcpPubSubPull with a per-instance subscription on Google's Pub/Sub
 * emulator, a manager; plus a bare subscriber (no keyshift) on the baseline subscription.
 * Prints JSON lines with wall-clock times (ms): ready, bare (a baseline message arrived),
 * message (the pull source hands a notification to the source), fetch, change (with the
 * CPU time this process spent since the message).
 * `close` on stdin closes it (deleting its subscription).
 */
import { createInterface } from 'node:readline';
import { credentials } from '@grpc/grpc-js';
import { PubSub } from '@google-cloud/pubsub';
import { createKeyshift, defineSecrets, t } from '../src/index.ts';
import { gcpPubSubPull } from '../src/sources/gcp-pubsub-pull.ts';
import { gcpSecretManager } from '../src/sources/gcp-secret-manager.ts';

const { SM_HOST = '', SM_PORT = '0', TOPIC = '', BARE_SUBSCRIPTION = '', PROJECT = '', SECRET = '' } = process.env;
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const now = (): number => performance.timeOrigin + performance.now();

const source = gcpSecretManager({
  project: PROJECT,
  clientOptions: { apiEndpoint: SM_HOST, port: Number(SM_PORT), sslCreds: credentials.createInsecure(), universeDomain: 'googleapis.com' },
});
// the source, seen by the pull source: the moment a notification is handed over (and this process's CPU time then)
let cpuAtMessage = process.cpuUsage();
const observed = {
  invalidate(names?: readonly string[]) {
    cpuAtMessage = process.cpuUsage();
    say({ message: true, at: now() });
    source.invalidate(names);
  },
  entriesFor: (resource: string) => source.entriesFor(resource),
};
const pull = await gcpPubSubPull({
  instanceSubscription: { topic: TOPIC, filterSecrets: [`projects/${PROJECT}/secrets/${SECRET}`] },
  clientConfig: { projectId: PROJECT },
  source: observed,
  onError: (e) => say({ error: e.code, message: e.message }),
});
const ks = createKeyshift(defineSecrets({ [SECRET]: { type: t.string(), ttlMs: 3_600_000 } }), {
  source,
  notifications: pull.health,
  logger: false,
});
ks.on('change', (e) => {
  const at = now();
  const cpu = process.cpuUsage(cpuAtMessage);
  say({ change: e.version, at, cpuMs: (cpu.user + cpu.system) / 1000 });
});
ks.on('fetch', (e) => say({ fetch: e.trigger, outcome: e.outcome, ms: e.durationMs, at: now() }));
await ks.ready();

// the baseline: a plain subscriber with the client's defaults, no keyshift in the path
const bareClient = new PubSub({ projectId: PROJECT });
const bare = bareClient.subscription(BARE_SUBSCRIPTION);
bare.on('message', (m) => {
  m.ack();
  say({ bare: m.data.toString(), at: now() });
});
bare.on('error', (e: Error) => say({ error: 'bare', message: e.message }));
say({ ready: true, subscription: pull.subscription, version: ks.status().entries[0]?.version });

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'close') continue;
  await bare.close().catch(() => undefined);
  await bareClient.close().catch(() => undefined);
  await pull.close();
  await ks.close();
  say({ closed: true });
  process.exit(0);
}
