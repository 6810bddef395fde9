/**
 * Google Cloud Secret Manager bench, against the emulator over loopback with the real
 * client: ready() for 77 secrets at 50 ms injected store latency (cold: a new client;
 * warm: a connected one), and push propagation (a new version added through the real
 * client until two keyshift instances both serve it), p50/p99, at 0 and 50 ms latency.
 * The emulator runs in a child process (bench/_gcp-emulator-child.ts), as a store would.
 * Prints a markdown section. Run: npx tsx bench/gcp.ts
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { credentials } from '@grpc/grpc-js';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { FaultRule } from '../src/emulator/index.ts';
import { createKeyshift, defineSecrets, t } from '../src/index.ts';
import { gcpPubSubPushHandler } from '../src/sources/gcp-pubsub-push.ts';
import { gcpSecretManager } from '../src/sources/gcp-secret-manager.ts';
import { fmt, percentile, table } from './_measure.ts';

const PROJECT = 'bench-project';
const SECRETS = 77;
const LATENCY_MS = 50;
const READY_TRIALS = Number(process.env.BENCH_GCP_READY_TRIALS ?? 7);
const ROTATIONS = Number(process.env.BENCH_GCP_ROTATIONS ?? 60);
const TOKEN = 'bench-push-token-0123456789abcdef';
const HOUR = 60 * 60_000;

const names = Array.from({ length: SECRETS }, (_, i) => `SECRET_${String(i + 1).padStart(2, '0')}`);
const declaration = defineSecrets(
  Object.fromEntries(names.map((n) => [n, { type: t.string(), category: 'api-key' as const, ttlMs: HOUR }])),
);

/** The emulator child, driven over IPC. */
interface Remote {
  clientOptions: () => ConstructorParameters<typeof SecretManagerServiceClient>[0];
  call(op: 'clear' | 'count' | 'close'): Promise<unknown>;
  inject(rule: FaultRule): Promise<unknown>;
  subscribe(url: string): Promise<unknown>;
}

async function startRemote(): Promise<Remote> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./_gcp-emulator-child.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  let nextId = 0;
  const request = (body: Record<string, unknown>): Promise<unknown> => {
    const id = ++nextId;
    return new Promise((resolve) => {
      const onMessage = (m: { id?: number; result?: unknown }) => {
        if (m.id !== id) return;
        child.off('message', onMessage);
        resolve(m.result);
      };
      child.on('message', onMessage);
      child.send({ id, ...body });
    });
  };
  return {
    clientOptions: () => ({
      apiEndpoint: '127.0.0.1',
      port,
      sslCreds: credentials.createInsecure(),
      universeDomain: 'googleapis.com',
    }),
    call: (op) => request({ op }),
    inject: (rule) => request({ op: 'inject', rule }),
    subscribe: (url) => request({ op: 'subscribe', url, bearerToken: TOKEN }),
  };
}

/** A keyshift instance with its own source, client and push endpoint, subscribed to the emulator. */
async function instance(emulator: Remote) {
  const source = gcpSecretManager({ project: PROJECT, clientOptions: emulator.clientOptions() });
  // minRefreshIntervalMs 0: every push is its own rotation here, none may be coalesced away.
  const ks = createKeyshift(declaration, { source, logger: false, minRefreshIntervalMs: 0 });
  const handle = gcpPubSubPushHandler({ source, token: TOKEN });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
        body: Buffer.concat(chunks),
      });
      res.writeHead((await handle(request)).status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await emulator.subscribe(`http://127.0.0.1:${port}/push`);
  return {
    ks,
    async close() {
      await ks.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The test plan's suggested bound, measured beside the default (DEFAULT_STARTUP_CONCURRENCY). */
const NARROW_CONCURRENCY = 16;

async function readyTimes(emulator: Remote): Promise<Record<'cold' | 'warm' | 'narrow' | 'raw', number[]>> {
  const cold: number[] = [];
  const warm: number[] = [];
  const narrow: number[] = [];
  const raw: number[] = [];
  await emulator.inject({ latencyMs: LATENCY_MS });
  for (let i = 0; i < READY_TRIALS; i++) {
    // The floor: the same 77 calls, all at once, with the raw client and no keyshift.
    const rawClient = new SecretManagerServiceClient(emulator.clientOptions());
    await rawClient.getSecret({ name: `projects/${PROJECT}/secrets/${names[0]}` });
    const started0 = performance.now();
    await Promise.all(
      names.map((n) =>
        rawClient.accessSecretVersion({ name: `projects/${PROJECT}/secrets/${n}/versions/latest` }, { retry: null }),
      ),
    );
    raw.push(performance.now() - started0);
    await rawClient.close();

    const source = gcpSecretManager({ project: PROJECT, clientOptions: emulator.clientOptions() });
    const ks = createKeyshift(declaration, { source, logger: false });
    let started = performance.now();
    await ks.ready();
    cold.push(performance.now() - started);
    await ks.close();

    // Warm: the client is created and connected before ready() (a service that also reads other things).
    const client = new SecretManagerServiceClient(emulator.clientOptions());
    await client.getSecret({ name: `projects/${PROJECT}/secrets/${names[0]}` });
    const warmKs = createKeyshift(declaration, { source: gcpSecretManager({ project: PROJECT, client }), logger: false });
    started = performance.now();
    await warmKs.ready();
    warm.push(performance.now() - started);
    await warmKs.close();

    // The same with 16 in flight (the test plan's suggested bound): five waves for 77, against the default's one.
    const narrowKs = createKeyshift(declaration, {
      source: gcpSecretManager({ project: PROJECT, client }),
      logger: false,
      startupConcurrency: NARROW_CONCURRENCY,
    });
    started = performance.now();
    await narrowKs.ready();
    narrow.push(performance.now() - started);
    await narrowKs.close();
    await client.close();
  }
  await emulator.call('clear');
  return { cold, warm, narrow, raw };
}

/** Adds a version to one secret after another; returns the time until each instance serves it. */
type Fleet = Awaited<ReturnType<typeof instance>>[];

async function propagation(
  emulator: Remote,
  fleet: Fleet,
  client: SecretManagerServiceClient,
  latencyMs: number,
): Promise<number[]> {
  if (latencyMs > 0) await emulator.inject({ latencyMs });
  const samples: number[] = [];
  for (let r = 0; r < ROTATIONS; r++) {
    const name = names[r % SECRETS]!;
    const started = performance.now();
    const served = fleet.map(
      (m) =>
        new Promise<number>((resolve) => {
          const stop = m.ks.on('change', (e) => {
            if (e.name === name) {
              stop();
              resolve(performance.now() - started);
            }
          });
        }),
    );
    await client.addSecretVersion({
      parent: `projects/${PROJECT}/secrets/${name}`,
      payload: { data: Buffer.from(`fake-${name}-${r}`) },
    });
    samples.push(...(await Promise.all(served)));
  }
  await emulator.call('clear');
  return samples;
}

async function main(): Promise<void> {
  const emulator = await startRemote();
  const client = new SecretManagerServiceClient(emulator.clientOptions());
  for (const name of names) {
    await client.createSecret({ parent: `projects/${PROJECT}`, secretId: name, secret: {} });
    await client.addSecretVersion({ parent: `projects/${PROJECT}/secrets/${name}`, payload: { data: Buffer.from(`fake-${name}`) } });
  }
  const ready = await readyTimes(emulator);
  const fleet = [await instance(emulator), await instance(emulator)];
  await Promise.all(fleet.map((m) => m.ks.ready()));
  const callsBefore = Number(await emulator.call('count'));
  const fast = await propagation(emulator, fleet, client, 0);
  const slow = await propagation(emulator, fleet, client, LATENCY_MS);
  const callsPerRotation = (Number(await emulator.call('count')) - callsBefore) / (2 * 2 * ROTATIONS);
  for (const m of fleet) await m.close();
  await client.close();
  await emulator.call('close');

  const p = (xs: number[], q: number) => `${fmt(percentile(xs, q))} ms`;
  const rows = [
    [`baseline: ${SECRETS} AccessSecretVersion calls at once, raw client, ${LATENCY_MS} ms store latency`, p(ready.raw, 0.5), p(ready.raw, 1), '—'],
    [`\`ready()\`, ${SECRETS} secrets, ${LATENCY_MS} ms store latency, new client (cold)`, p(ready.cold, 0.5), p(ready.cold, 1), '< 150 ms'],
    [`\`ready()\`, ${SECRETS} secrets, ${LATENCY_MS} ms store latency, connected client`, p(ready.warm, 0.5), p(ready.warm, 1), '< 150 ms'],
    [`\`ready()\`, same, connected client, \`startupConcurrency: ${NARROW_CONCURRENCY}\``, p(ready.narrow, 0.5), p(ready.narrow, 1), '(for comparison)'],
    ['push propagation to 2 instances, 0 ms store latency (p50 / p99)', p(fast, 0.5), p(fast, 0.99), 'p99 < 250 ms'],
    [`push propagation to 2 instances, ${LATENCY_MS} ms store latency (p50 / p99)`, p(slow, 0.5), p(slow, 0.99), 'p99 < 250 ms'],
  ];
  const notes = [
    `Load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(', ')} (the baseline row is the transport's floor on this machine).`,
    `${READY_TRIALS} ready() trials per row (median / max); ${ROTATIONS} rotations x 2 instances per propagation row (p50 / p99),`,
    'each measured from just before `addSecretVersion` until the instance emits `change`.',
    `Store calls per rotation per instance: ${fmt(callsPerRotation, 2)} (push refreshes only the entry named;`,
    `the hourly TTL is the safety net, so ${SECRETS} secrets cost ${SECRETS} calls/hour/instance instead of ${SECRETS * 60} at a 1-minute TTL).`,
  ];
  console.log(
    `## Google Cloud Secret Manager (emulator, real client)\n\n${table(['scenario', 'median / p50', 'max / p99', 'goal'], rows)}\n\n${notes.join('\n')}\n`,
  );
}

await main();
