// One instance of a fleet for pubsub-fleet.test.ts: the official Secret Manager client
// against keyshift's emulator, a per-instance pull subscription on Google's Pub/Sub
// emulator. Prints JSON lines (ready, healthy, change); `close` on stdin closes it.
// DEAF=1: its pull source hears pings and heartbeats but invalidates nothing, so it
// serves a new version only at its TTL (an instance that lags).
import { createInterface } from 'node:readline';
import { credentials } from '@grpc/grpc-js';
import { instanceIdentityFromEnv } from '../../src/core/instance-identity.ts';
import { startFleetReporter } from '../../src/fleet/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { gcpPubSubPull } from '../../src/sources/gcp-pubsub-pull.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';

const { SM_HOST = '', SM_PORT = '0', TOPIC = '', FLEET_TOPIC = '', PROJECT = '', SECRET = '' } = process.env;
const say = (line: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
const now = (): number => performance.timeOrigin + performance.now();

const source = gcpSecretManager({
  project: PROJECT,
  clientOptions: { apiEndpoint: SM_HOST, port: Number(SM_PORT), sslCreds: credentials.createInsecure(), universeDomain: 'googleapis.com' },
});
const pull = await gcpPubSubPull({
  instanceSubscription: { topic: TOPIC, filterSecrets: [`projects/${PROJECT}/secrets/${SECRET}`] },
  clientConfig: { projectId: PROJECT },
  heartbeat: { intervalMs: 1_000 },
  ...(process.env.DEAF === '1' ? { onInvalidate: () => {} } : { source }),
  onError: (e) => say({ error: e.code, message: e.message }),
});
const instance = instanceIdentityFromEnv({ service: 'fleet-test', revision: 'fleet-test-00001' });
const ks = createKeyshift(defineSecrets({ [SECRET]: { type: t.string(), ttlMs: 3_600_000 } }), {
  source,
  notifications: pull.health,
  instance,
  logger: false,
});
ks.on('change', (e) => say({ change: e.version, at: now() }));
pull.health.on((c) => say({ health: c.state }));
await ks.ready();
const reporter = await startFleetReporter({ topic: FLEET_TOPIC, managers: [ks], instance, pull, clientConfig: { projectId: PROJECT } });
say({ ready: true, instanceId: instance.instanceId, subscription: pull.subscription, version: ks.status().entries[0]?.version });

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'close') continue;
  const started = now();
  await reporter.close();
  await pull.close();
  await ks.close();
  say({ closed: true, closeMs: now() - started });
  process.exit(0);
}
