/**
 * The contenders of bench/aws.ts, each pointed at a loopback endpoint: keyshift
 * (core manager + awsSecretsManager source), Powertools Parameters' SecretsProvider
 * (what `getSecret` runs, with the SDK's default client config), and the raw SDK.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { createKeyshift, defineSecrets, type Keyshift, t } from '../src/index.ts';
import { awsSecretsManager } from '../src/sources/aws-secrets-manager.ts';
import type { AwsSecretsManagerServer } from '../src/testing/aws-secrets-manager-server.ts';

/** One row of the results table: a cell per contender, '' when it does not apply. */
export interface Row {
  measure: string;
  keyshift: string;
  ptDefault: string;
  ptMatched: string;
  raw: string;
  map: string;
  env: string;
  goal: string;
}

export function row(measure: string, cells: Partial<Omit<Row, 'measure'>>): Row {
  return { measure, keyshift: '', ptDefault: '', ptMatched: '', raw: '', map: '', env: '', goal: '', ...cells };
}

/** Powertools' default maxAge (seconds) when POWERTOOLS_PARAMETERS_MAX_AGE is unset. */
export const POWERTOOLS_DEFAULT_MAX_AGE_S = 5;

export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDBENCHFAKE', secretAccessKey: 'bench-fake-secret-key' };

export function clientConfig(server: AwsSecretsManagerServer) {
  return { endpoint: server.endpoint, region: server.region, credentials: FAKE_CREDENTIALS };
}

/** Creates `names` on the endpoint with fake 32-character values; returns them. */
export function seedSecrets(server: AwsSecretsManagerServer, names: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (const name of names) {
    const value = `fake-${name}-`.padEnd(32, 'x').slice(0, 32);
    server.direct('CreateSecret', { Name: name, SecretString: value });
    values.set(name, value);
  }
  return values;
}

export interface KeyshiftBenchOptions {
  ttlMs?: number;
  startupConcurrency?: number;
  fetchTimeoutMs?: number;
  minRefreshIntervalMs?: number;
}

type Entry = { type: ReturnType<typeof t.string>; category: 'api-key'; ttlMs?: number };

/** A keyshift manager over AWS for these entry names, declared as the README shows. */
export function keyshiftFor(
  server: AwsSecretsManagerServer,
  names: readonly string[],
  options: KeyshiftBenchOptions = {},
): Keyshift<Record<string, Entry>> {
  const declaration: Record<string, Entry> = {};
  for (const name of names) {
    declaration[name] = {
      type: t.string(),
      category: 'api-key',
      ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
    };
  }
  return createKeyshift(defineSecrets(declaration), {
    source: awsSecretsManager({ clientConfig: clientConfig(server) }),
    logger: false,
    ...(options.startupConcurrency === undefined ? {} : { startupConcurrency: options.startupConcurrency }),
    ...(options.fetchTimeoutMs === undefined ? {} : { fetchTimeoutMs: options.fetchTimeoutMs }),
    ...(options.minRefreshIntervalMs === undefined ? {} : { minRefreshIntervalMs: options.minRefreshIntervalMs }),
  });
}

/** Powertools' SecretsProvider: `getSecret` is this class with a default client. */
export function powertoolsFor(server: AwsSecretsManagerServer): SecretsProvider {
  return new SecretsProvider({ clientConfig: clientConfig(server) });
}

/** The raw SDK with its default configuration (3 attempts, standard retry). */
export function rawClientFor(server: AwsSecretsManagerServer): SecretsManagerClient {
  return new SecretsManagerClient(clientConfig(server));
}
