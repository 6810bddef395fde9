/**
 * Scenario 2 (1,000 concurrent cold callers of one secret) and scenario 5 (startup
 * for 77 secrets). Every contender starts cold: a new client, new connections.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DEFAULT_MAX_VALUE_BYTES, DEFAULT_STARTUP_CONCURRENCY } from '../src/constants.ts';
import { awsSecretsManager } from '../src/sources/aws-secrets-manager.ts';
import type { AwsSecretsManagerServer } from '../src/testing/aws-secrets-manager-server.ts';
import {
  clientConfig,
  keyshiftFor,
  powertoolsFor,
  type Row,
  rawClientFor,
  row,
  seedSecrets,
} from './_aws-competitors.ts';
import { count, median, ms, pct, timed } from './_aws-stats.ts';

const CALLERS = 1_000;
const STARTUP_SECRETS = 77;
const REPEATS = 3;

/** Starts `CALLERS` calls in the same tick; returns each caller's latency in ms. */
async function callers(read: () => Promise<unknown>): Promise<number[]> {
  const started = performance.now();
  return Promise.all(Array.from({ length: CALLERS }, () => read().then(() => performance.now() - started)));
}

function latencyCell(latencies: readonly number[], calls: number): string {
  return `${count(calls)} store calls; p50 ${ms(pct(latencies, 50))}, p99 ${ms(pct(latencies, 99))}`;
}

export async function coldCallers(server: AwsSecretsManagerServer): Promise<Row[]> {
  const names = ['COLD_KS', 'COLD_PT', 'COLD_RAW'];
  seedSecrets(server, names);
  const cells: Partial<Row> = {};

  const ks = keyshiftFor(server, ['COLD_KS']);
  server.resetCalls();
  let latencies = await callers(async () => {
    await ks.ready();
    return ks.get('COLD_KS').reveal();
  });
  cells.keyshift = `${latencyCell(latencies, server.totalCalls())} (\`await ks.ready()\` then \`ks.get\`)`;
  await ks.close();

  const provider = powertoolsFor(server);
  server.resetCalls();
  latencies = await callers(() => provider.get('COLD_PT'));
  cells.ptDefault = latencyCell(latencies, server.calls.GetSecretValue);
  cells.ptMatched = 'same as default (a cold cache has no maxAge to apply)';
  provider.client.destroy();

  const raw = rawClientFor(server);
  server.resetCalls();
  latencies = await callers(() => raw.send(new GetSecretValueCommand({ SecretId: 'COLD_RAW' })));
  cells.raw = latencyCell(latencies, server.calls.GetSecretValue);
  raw.destroy();
  const single = rawClientFor(server);
  const oneColdCall = await timed(() => single.send(new GetSecretValueCommand({ SecretId: 'COLD_RAW' })));
  single.destroy();
  cells.raw += `; one call alone on a new client: ${ms(oneColdCall)}`;

  return [
    row(`2 ${count(CALLERS)} concurrent cold callers of one secret (store latency ${server.latencyMs} ms)`, {
      ...cells,
      goal: `1 store call; p99 ≤ ${server.latencyMs + 5} ms`,
    }),
  ];
}

/** Median time of REPEATS runs, and the store calls of one run. */
async function measure(server: AwsSecretsManagerServer, run: () => Promise<unknown>, repeats = REPEATS) {
  const times: number[] = [];
  let calls = 0;
  for (let i = 0; i < repeats; i++) {
    server.resetCalls();
    times.push(await timed(run));
    calls = server.totalCalls();
  }
  return { ms: median(times), calls };
}

export async function startup(server: AwsSecretsManagerServer): Promise<Row[]> {
  const names = Array.from({ length: STARTUP_SECRETS }, (_, i) => `STARTUP_SECRET_${String(i + 1).padStart(2, '0')}`);
  seedSecrets(server, names);
  const probe = rawClientFor(server);
  const roundTrips: number[] = [];
  for (let i = 0; i < 10; i++) roundTrips.push(await timed(() => probe.send(new GetSecretValueCommand({ SecretId: names[0] }))));
  probe.destroy();
  const roundTrip = median(roundTrips);

  const keyshiftReady = (concurrency?: number) => async () => {
    const ks = keyshiftFor(server, names, concurrency === undefined ? {} : { startupConcurrency: concurrency });
    await ks.ready();
    await ks.close();
  };
  const batch = async () => {
    const source = awsSecretsManager({ clientConfig: clientConfig(server) });
    const got = await source.getMany(names, { signal: new AbortController().signal, maxBytes: DEFAULT_MAX_VALUE_BYTES });
    if (got.size !== names.length) throw new Error('getMany left entries out');
    await source.close();
  };
  const ptAll = async () => {
    const provider = powertoolsFor(server);
    await Promise.all(names.map((name) => provider.get(name)));
    provider.client.destroy();
  };
  const ptSequential = async () => {
    const provider = powertoolsFor(server);
    for (const name of names) await provider.get(name);
    provider.client.destroy();
  };
  const rawAll = async () => {
    const client = rawClientFor(server);
    await Promise.all(names.map((name) => client.send(new GetSecretValueCommand({ SecretId: name }))));
    client.destroy();
  };

  const ready = await measure(server, keyshiftReady());
  const readyAll = await measure(server, keyshiftReady(STARTUP_SECRETS));
  const batched = await measure(server, batch);
  const all = await measure(server, ptAll);
  const sequential = await measure(server, ptSequential, 1);
  const rawAll77 = await measure(server, rawAll);
  const keyshiftCell =
    `ready() ${ms(ready.ms)} (${ready.calls} calls, ${DEFAULT_STARTUP_CONCURRENCY} in flight, the default); ` +
    `ready() with startupConcurrency ${STARTUP_SECRETS}: ${ms(readyAll.ms)}; ` +
    `source.getMany() (BatchGetSecretValue): ${ms(batched.ms)} (${batched.calls} calls; what ready() uses first)`;
  const ptCell =
    `Promise.all of getSecret: ${ms(all.ms)} (${all.calls} calls); ` +
    `sequential awaits: ${ms(sequential.ms)} (${sequential.calls} calls)`;
  return [
    row(`5 startup for ${STARTUP_SECRETS} secrets, ms (median of ${REPEATS}; one round trip = ${ms(roundTrip)})`, {
      keyshift: keyshiftCell,
      ptDefault: ptCell,
      ptMatched: 'same as default (maxAge plays no part at startup)',
      raw: `Promise.all: ${ms(rawAll77.ms)} (${rawAll77.calls} calls)`,
      goal: `< 3 round trips (${ms(3 * roundTrip)})`,
    }),
  ];
}
