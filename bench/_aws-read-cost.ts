/**
 * Scenario 1: the cost of a cached read. Each contender has its own loop function
 * (so V8 optimises each on its own); rounds are interleaved and the median round
 * is reported. Sync: 5 × 2·10^6 reads each (process.env, ~40× slower: 5 × 2·10^5);
 * async: 5 × 2·10^5 awaited reads each.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsSecretsManagerServer } from '../src/testing/aws-secrets-manager-server.ts';
import { clientConfig, keyshiftFor, type Row, rawClientFor, row, seedSecrets } from './_aws-competitors.ts';
import { median, ms, ns } from './_aws-stats.ts';

const ROUNDS = 5;
const SYNC_READS = 2_000_000;
const ENV_READS = 200_000;
const ASYNC_READS = 200_000;
const NAME = 'CHANGENOW_API_KEY';
const PT_DEFAULT = 'CHANGENOW_API_KEY_PT_DEFAULT';
const PT_MATCHED = 'CHANGENOW_API_KEY_PT_MATCHED';
/** keyshift's default TTL for an api-key entry, and so Powertools' matching maxAge. */
const API_KEY_TTL_S = 300;

let sink = 0;

export async function readCost(server: AwsSecretsManagerServer): Promise<Row[]> {
  const values = seedSecrets(server, [NAME, PT_DEFAULT, PT_MATCHED]);
  const map = new Map(values);
  process.env[NAME] = values.get(NAME);
  const ks = keyshiftFor(server, [NAME]);
  await ks.ready();

  // getSecret() builds its own default client: point it at the endpoint as a Lambda's environment would.
  const config = clientConfig(server);
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = config.endpoint;
  process.env.AWS_REGION = config.region;
  process.env.AWS_ACCESS_KEY_ID = config.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = config.credentials.secretAccessKey;
  const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
  await getSecret(PT_DEFAULT);
  await getSecret(PT_MATCHED, { maxAge: API_KEY_TTL_S });

  const sync = {
    map(n: number) {
      for (let i = 0; i < n; i++) sink += (map.get(NAME) as string).length;
    },
    env(n: number) {
      for (let i = 0; i < n; i++) sink += (process.env[NAME] as string).length;
    },
    keyshift(n: number) {
      for (let i = 0; i < n; i++) sink += ks.get(NAME).reveal().length;
    },
  };
  const async = {
    async map(n: number) {
      for (let i = 0; i < n; i++) sink += ((await map.get(NAME)) as string).length;
    },
    async keyshift(n: number) {
      for (let i = 0; i < n; i++) sink += (await ks.get(NAME).reveal()).length;
    },
    async ptDefault(n: number) {
      for (let i = 0; i < n; i++) sink += ((await getSecret(PT_DEFAULT)) as string).length;
    },
    async ptMatched(n: number) {
      for (let i = 0; i < n; i++) sink += ((await getSecret(PT_MATCHED, { maxAge: API_KEY_TTL_S })) as string).length;
    },
  };
  const perOp: Record<string, number[]> = {};
  const record = (key: string, started: number, n: number) => {
    perOp[key] ??= [];
    perOp[key].push(((performance.now() - started) * 1e6) / n);
  };
  const syncReads = (key: string) => (key === 'env' ? ENV_READS : SYNC_READS);
  for (const [key, fn] of Object.entries(sync)) fn(syncReads(key) / 10);
  for (const fn of Object.values(async)) await fn(ASYNC_READS / 10);
  server.resetCalls();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, fn] of Object.entries(sync)) {
      const started = performance.now();
      fn(syncReads(key));
      record(`sync.${key}`, started, syncReads(key));
    }
    for (const [key, fn] of Object.entries(async)) {
      const started = performance.now();
      await fn(ASYNC_READS);
      record(`async.${key}`, started, ASYNC_READS);
    }
  }
  const storeCallsDuringReads = server.calls.GetSecretValue;

  const raw = rawClientFor(server);
  const rawMs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await raw.send(new GetSecretValueCommand({ SecretId: NAME }));
    rawMs.push(performance.now() - started);
  }
  raw.destroy();
  await ks.close();

  const at = (key: string) => median(perOp[key] ?? []);
  const base = at('sync.map');
  const cell = (key: string) => `${ns(at(key))} (${(at(key) / base).toFixed(1)}×)`;
  const speedup = at('async.ptDefault') / at('sync.keyshift');
  if (sink === -1) console.log(sink);
  return [
    row(`1a cached read, sync path, ns/op (× Map.get); ${ROUNDS}×${SYNC_READS.toExponential(0)} reads (process.env ${ROUNDS}×${ENV_READS.toExponential(0)})`, {
      keyshift: `${cell('sync.keyshift')} \`ks.get(K).reveal()\``,
      ptDefault: 'no sync API',
      ptMatched: 'no sync API',
      raw: 'no cache',
      map: cell('sync.map'),
      env: cell('sync.env'),
      goal: '≤ 2× Map.get; < process.env',
    }),
    row(`1b cached read, async path (awaited), ns/op (× Map.get); ${ROUNDS}×${ASYNC_READS.toExponential(0)} reads`, {
      keyshift: `${cell('async.keyshift')} (awaiting a sync value)`,
      ptDefault: `${cell('async.ptDefault')} \`await getSecret(K)\``,
      ptMatched: `${cell('async.ptMatched')} maxAge ${API_KEY_TTL_S} s`,
      raw: `${ms(median(rawMs))} per read (every read is a store call)`,
      map: cell('async.map'),
      goal: '',
    }),
    row('1c keyshift sync read vs Powertools async cached read', {
      keyshift: `${speedup.toFixed(0)}× faster`,
      ptDefault: `${storeCallsDuringReads} store call(s) during the read loops (its 5 s maxAge expired)`,
      goal: '≥ 10× faster',
    }),
  ];
}
