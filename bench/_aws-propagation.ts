/**
 * Scenario 3: time from a new version in the store (PutSecretValue) to the library
 * serving it. A reader per trial asks every 5 ms from before the put; the put comes
 * at a random moment within the contender's TTL, so the cache's phase is random.
 * All trials of all contenders run at once, each on its own secret.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { AwsSecretsManagerServer } from '../src/testing/aws-secrets-manager-server.ts';
import {
  keyshiftFor,
  POWERTOOLS_DEFAULT_MAX_AGE_S,
  powertoolsFor,
  type Row,
  rawClientFor,
  row,
  seedSecrets,
} from './_aws-competitors.ts';
import { ms, pct, sleep } from './_aws-stats.ts';

const TRIALS = 6;
const POLL_TTL_MS = 1_000;
const READ_EVERY_MS = 5;

interface Contender {
  /** The cache period the put time is drawn from. */
  periodMs: number;
  read(name: string): string | Promise<string>;
  /** Called right after the put (the forced-refresh path). */
  afterPut?(name: string): void;
}

async function trial(server: AwsSecretsManagerServer, name: string, c: Contender): Promise<number> {
  await c.read(name);
  const putAfterMs = Math.random() * c.periodMs;
  const started = performance.now();
  const next = `fake-${name}-rotated`;
  let putAt = Number.POSITIVE_INFINITY;
  for (;;) {
    if (putAt === Number.POSITIVE_INFINITY && performance.now() - started >= putAfterMs) {
      server.direct('PutSecretValue', { SecretId: name, SecretString: next });
      putAt = performance.now();
      c.afterPut?.(name);
    }
    const value = await c.read(name);
    if (value === next) return performance.now() - putAt;
    await sleep(READ_EVERY_MS);
  }
}

function summary(samples: readonly number[]): string {
  return `p50 ${ms(pct(samples, 50))}, max ${ms(Math.max(...samples))}`;
}

export async function propagation(server: AwsSecretsManagerServer): Promise<Row[]> {
  const namesOf = (prefix: string) => Array.from({ length: TRIALS }, (_, i) => `${prefix}_${i}`);
  const groups = {
    poll: namesOf('PROP_KS_POLL'),
    forced: namesOf('PROP_KS_FORCED'),
    ptDefault: namesOf('PROP_PT_DEFAULT'),
    ptMatched: namesOf('PROP_PT_MATCHED'),
    raw: namesOf('PROP_RAW'),
  };
  for (const names of Object.values(groups)) seedSecrets(server, names);

  const polling = keyshiftFor(server, groups.poll, { ttlMs: POLL_TTL_MS });
  const forcing = keyshiftFor(server, groups.forced);
  await Promise.all([polling.ready(), forcing.ready()]);
  const provider = powertoolsFor(server);
  const raw = rawClientFor(server);
  const contenders: Record<keyof typeof groups, Contender> = {
    poll: { periodMs: POLL_TTL_MS, read: (name) => polling.get(name).reveal() },
    forced: {
      periodMs: 200,
      read: (name) => forcing.get(name).reveal(),
      afterPut: (name) => void forcing.refresh(name),
    },
    ptDefault: { periodMs: POWERTOOLS_DEFAULT_MAX_AGE_S * 1000, read: async (name) => String(await provider.get(name)) },
    ptMatched: {
      periodMs: POLL_TTL_MS,
      read: async (name) => String(await provider.get(name, { maxAge: POLL_TTL_MS / 1000 })),
    },
    raw: {
      periodMs: 200,
      read: async (name) => String((await raw.send(new GetSecretValueCommand({ SecretId: name }))).SecretString),
    },
  };
  const results = Object.fromEntries(
    await Promise.all(
      Object.entries(groups).map(async ([key, names]) => {
        const contender = contenders[key as keyof typeof groups];
        return [key, await Promise.all(names.map((name) => trial(server, name, contender)))] as const;
      }),
    ),
  ) as Record<keyof typeof groups, number[]>;
  await Promise.all([polling.close(), forcing.close()]);
  provider.client.destroy();
  raw.destroy();

  return [
    row(`3 propagation: PutSecretValue → new value served, ms (${TRIALS} trials each, reader every ${READ_EVERY_MS} ms)`, {
      keyshift:
        `polling, TTL 1 s: ${summary(results.poll)}; ` +
        `\`ks.refresh(K)\` after the put (admin/CLI path): ${summary(results.forced)}; ` +
        'push: none (this source has no change feed for AWS)',
      ptDefault: `maxAge ${POWERTOOLS_DEFAULT_MAX_AGE_S} s: ${summary(results.ptDefault)}`,
      ptMatched: `maxAge 1 s: ${summary(results.ptMatched)}`,
      raw: `${summary(results.raw)} (a store call per read)`,
      goal: '≤ TTL + jitter (poll)',
    }),
  ];
}
