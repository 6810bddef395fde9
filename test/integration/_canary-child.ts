/**
 * One instance of a fleet for canary.test.ts: a keyshift manager on the shared local store
 * with a canary policy on CN_API_KEY, calling the ChangeNow stand-in one request at a time
 * with the key it serves, and reporting every 401 with ks.reportFailure(). Answers the
 * parent's `query` with its counters (versions and counts, never a value).
 */
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { localStore } from '../../src/sources/local-store.ts';

const [dir, instanceId, url, bakeMs] = process.argv.slice(2) as [string, string, string, string];

const declaration = defineSecrets({
  CN_API_KEY: { type: t.string(), category: 'api-key', ttlMs: 3_600_000, adoption: { steps: [0.2, 0.5], bakeMs: Number(bakeMs), maxFailures: 2 } },
});
const ks = createKeyshift(declaration, { source: localStore({ dir }), instanceId, logger: false });
const servedVersions = new Set<string>();
const failedByVersion: Record<string, number> = {};
const okByVersion: Record<string, number> = {};
let halts = 0;
let stopped = false;
ks.on('rollout-halted', () => halts++);

const version = (): string => ks.status().entries[0]?.version ?? '?';

async function loop(): Promise<void> {
  while (!stopped) {
    const served = version();
    servedVersions.add(served);
    const key = ks.get('CN_API_KEY').reveal();
    const res = await fetch(`${url}/exchange/by-id?id=1`, { headers: { 'x-changenow-api-key': key } }).catch(() => undefined);
    if (res?.status === 401) {
      failedByVersion[served] = (failedByVersion[served] ?? 0) + 1;
      ks.reportFailure('CN_API_KEY');
    } else if (res?.ok) okByVersion[served] = (okByVersion[served] ?? 0) + 1;
    await res?.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'query') {
    const rollout = ks.status().entries[0]?.rollout;
    process.send?.({ type: 'state', version: version(), servedVersions: [...servedVersions], failedByVersion, okByVersion, halts, rollout: rollout ?? null });
  }
  if (message.type === 'stop') {
    stopped = true;
    ks.close().then(() => process.exit(0));
  }
});

await ks.ready();
process.send?.({ type: 'ready' });
loop().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
