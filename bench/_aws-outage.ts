/**
 * Scenario 4: the store fails every call (InternalServiceError, HTTP 500) for
 * OUTAGE_MS, past every TTL, while a reader per contender asks every 10 ms. Each
 * contender has its own endpoint so store calls are counted apart. When the outage
 * ends a new version is put, and we time how long until it is served.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  type AwsSecretsManagerServer,
  startAwsSecretsManagerServer,
} from '../src/testing/aws-secrets-manager-server.ts';
import {
  keyshiftFor,
  POWERTOOLS_DEFAULT_MAX_AGE_S,
  powertoolsFor,
  type Row,
  rawClientFor,
  row,
  seedSecrets,
} from './_aws-competitors.ts';
import { count, ms, sleep } from './_aws-stats.ts';

export const OUTAGE_MS = 10_000;
const TTL_MS = 1_000;
const READ_EVERY_MS = 10;
const RECOVERY_CAP_MS = 15_000;
const NAME = 'OUTAGE_SECRET';
const NEXT = 'fake-after-the-outage-value-0001';

interface Tally {
  reads: number;
  errors: number;
  stale: number;
  storeCalls: number;
  recoveryMs: number;
}

async function watch(
  server: AwsSecretsManagerServer,
  read: () => Promise<string> | string,
  ttlMs: number,
  startedAt: number,
): Promise<Tally> {
  const tally: Tally = { reads: 0, errors: 0, stale: 0, storeCalls: 0, recoveryMs: Number.NaN };
  while (performance.now() - startedAt < OUTAGE_MS) {
    const at = performance.now();
    try {
      await read();
      tally.reads++;
      if (at - startedAt > ttlMs) tally.stale++;
    } catch {
      tally.reads++;
      tally.errors++;
    }
    await sleep(READ_EVERY_MS);
  }
  tally.storeCalls = server.totalCalls();
  server.direct('PutSecretValue', { SecretId: NAME, SecretString: NEXT });
  server.clearFaults();
  const recovered = performance.now();
  while (performance.now() - recovered < RECOVERY_CAP_MS) {
    if ((await Promise.resolve(read()).catch(() => '')) === NEXT) {
      tally.recoveryMs = performance.now() - recovered;
      break;
    }
    await sleep(READ_EVERY_MS);
  }
  return tally;
}

function cell(t: Tally): string {
  const recovery = Number.isNaN(t.recoveryMs) ? `> ${RECOVERY_CAP_MS / 1000} s` : ms(t.recoveryMs);
  return (
    `**${count(t.errors)} errors** thrown of ${count(t.reads)} reads; ${count(t.stale)} stale values served; ` +
    `${count(t.storeCalls)} store calls; new version served ${recovery} after recovery`
  );
}

export async function outage(latencyMs: number): Promise<Row[]> {
  const servers = await Promise.all(Array.from({ length: 4 }, () => startAwsSecretsManagerServer({ latencyMs })));
  const [ksServer, ptDefaultServer, ptMatchedServer, rawServer] = servers as [
    AwsSecretsManagerServer,
    AwsSecretsManagerServer,
    AwsSecretsManagerServer,
    AwsSecretsManagerServer,
  ];
  for (const server of servers) seedSecrets(server, [NAME]);
  const ks = keyshiftFor(ksServer, [NAME], { ttlMs: TTL_MS });
  const ptDefault = powertoolsFor(ptDefaultServer);
  const ptMatched = powertoolsFor(ptMatchedServer);
  const raw = rawClientFor(rawServer);
  const readers = {
    keyshift: () => ks.get(NAME).reveal(),
    ptDefault: async () => String(await ptDefault.get(NAME)),
    ptMatched: async () => String(await ptMatched.get(NAME, { maxAge: TTL_MS / 1000 })),
    raw: async () => String((await raw.send(new GetSecretValueCommand({ SecretId: NAME }))).SecretString),
  };
  await ks.ready();
  await Promise.all([readers.ptDefault(), readers.ptMatched(), readers.raw()]);

  const startedAt = performance.now();
  for (const server of servers) {
    server.resetCalls();
    server.inject({ error: 'InternalServiceError' });
  }
  const [k, d, m, r] = await Promise.all([
    watch(ksServer, readers.keyshift, TTL_MS, startedAt),
    watch(ptDefaultServer, readers.ptDefault, POWERTOOLS_DEFAULT_MAX_AGE_S * 1000, startedAt),
    watch(ptMatchedServer, readers.ptMatched, TTL_MS, startedAt),
    watch(rawServer, readers.raw, 0, startedAt),
  ]);
  await ks.close();
  for (const client of [ptDefault.client, ptMatched.client, raw]) client.destroy();
  await Promise.all(servers.map((server) => server.close()));

  return [
    row(
      `4 store outage (HTTP 500 on every call) for ${OUTAGE_MS / 1000} s, past the TTL (keyshift TTL 1 s); reader every ${READ_EVERY_MS} ms`,
      {
        keyshift: cell(k),
        ptDefault: cell(d),
        ptMatched: cell(m),
        raw: cell(r),
        goal: '0 errors; bounded store calls',
      },
    ),
  ];
}
