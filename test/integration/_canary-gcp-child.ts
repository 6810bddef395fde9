/**
 * One instance of a fleet for canary-gcp-fleet.test.ts: a keyshift manager with the official
 * Secret Manager client against keyshift's emulator, notified by its own pull subscription
 * on Google's Pub/Sub emulator, with a canary policy on CN_API_KEY. It calls the ChangeNow
 * stand-in one request at a time with the key it serves and reports every 401 with
 * ks.reportFailure(). Answers the parent's `query` with counters (versions, counts and
 * event times, never a value).
 *
 * Notifications reach the source through `onInvalidate`, which notes the event type and
 * hands the names to `source.invalidate()` (what `source:` does), so the parent can count
 * which notification brought the halt marker.
 */
import { credentials } from '@grpc/grpc-js';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { gcpPubSubPull } from '../../src/sources/gcp-pubsub-pull.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';

const [instanceId, url, bakeMs] = process.argv.slice(2) as [string, string, string];
const { SM_HOST = '', SM_PORT = '0', TOPIC = '', PROJECT = '' } = process.env;
const SECRET = 'CN_API_KEY';
const now = (): number => performance.timeOrigin + performance.now();

const source = gcpSecretManager({
  project: PROJECT,
  clientOptions: { apiEndpoint: SM_HOST, port: Number(SM_PORT), sslCreds: credentials.createInsecure(), universeDomain: 'googleapis.com' },
  // the test machine is shared and loaded: a slow emulator answer is slow, not a failure
  timeoutMs: 20_000,
});
/** Wall times (ms) of the notifications received, by event type. */
const notifications: Record<string, number[]> = {};
const pull = await gcpPubSubPull({
  instanceSubscription: { topic: TOPIC, filterSecrets: [`projects/${PROJECT}/secrets/${SECRET}`] },
  clientConfig: { projectId: PROJECT },
  heartbeat: { intervalMs: 5_000 },
  onInvalidate: (names, event) => {
    notifications[event.eventType] = [...(notifications[event.eventType] ?? []), now()];
    source.invalidate(names);
  },
  onError: (e) => process.stderr.write(`instance ${instanceId}: ${e.code} ${e.message}\n`),
});
const declaration = defineSecrets({
  [SECRET]: { type: t.string(), category: 'api-key', ttlMs: 3_600_000, adoption: { steps: [0.2, 0.5], bakeMs: Number(bakeMs), maxFailures: 2 } },
});
const ks = createKeyshift(declaration, { source, notifications: pull.health, instanceId, fetchTimeoutMs: 20_000, logger: false });

const servedVersions = new Set<string>();
const failedByVersion: Record<string, number> = {};
const okByVersion: Record<string, number> = {};
/** [start, end] wall times of the fetches a notification caused (trigger push). */
const pushFetches: Array<[number, number]> = [];
const halts: Array<{ version: string; by: string; at: number; steppedBack: boolean }> = [];
/** When each version was first served here, and what moved it (`push`: the fetch a notification caused; `rollout`: a bake step). */
const servedAt: Record<string, number> = {};
const servedBy: Record<string, string> = {};
let stopped = false;

ks.on('fetch', (e) => {
  if (e.trigger === 'push') pushFetches.push([now() - e.durationMs, now()]);
});
ks.on('rollout-halted', (e) => halts.push({ version: e.version, by: e.by, at: now(), steppedBack: e.steppedBack }));
ks.on('change', (e) => {
  servedAt[e.version] ??= now();
  servedBy[e.version] ??= e.trigger;
});

const version = (): string => ks.status().entries[0]?.version ?? '?';

async function loop(): Promise<void> {
  while (!stopped) {
    const served = version();
    servedVersions.add(served);
    const key = ks.get(SECRET).reveal();
    const res = await fetch(`${url}/exchange/by-id?id=1`, { headers: { 'x-changenow-api-key': key } }).catch(() => undefined);
    if (res?.status === 401) {
      failedByVersion[served] = (failedByVersion[served] ?? 0) + 1;
      ks.reportFailure(SECRET);
    } else if (res?.ok) okByVersion[served] = (okByVersion[served] ?? 0) + 1;
    await res?.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'query') {
    const rollout = ks.status().entries[0]?.rollout;
    process.send?.({
      type: 'state',
      version: version(),
      servedVersions: [...servedVersions],
      failedByVersion,
      okByVersion,
      halts,
      servedAt,
      servedBy,
      notifications,
      pushFetches,
      rollout: rollout ?? null,
      health: pull.health.state,
    });
  }
  if (message.type === 'stop') {
    stopped = true;
    Promise.allSettled([pull.close(), ks.close()]).then(() => process.exit(0));
  }
});

await ks.ready();
// ready once a heartbeat came back through this instance's subscription: notifications flow
if (pull.health.state !== 'healthy') {
  await new Promise<void>((resolve) => {
    const off = pull.health.on((change) => {
      if (change.state !== 'healthy') return;
      off();
      resolve();
    });
  });
}
process.send?.({ type: 'ready', subscription: pull.subscription });
loop().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
