/**
 * AWS Secrets Manager as a CLI store, through the official client. AWS has no version
 * numbers: version N is the N-th version created (ListSecretVersionIds by CreatedDate,
 * deprecated ones included), `latest` is the AWSCURRENT label and any other name is a
 * staging label (AWSPREVIOUS, AWSPENDING...). A value that is UTF-8 is a SecretString,
 * anything else a SecretBinary. AWS versions have no state: enable, disable and destroy
 * are refused (move labels with `keyshift rotate`). Credentials: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment, else the SDK's chain.
 */
import { loadOptionalPeer } from '../_optional-peer.ts';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { AccessResult, SecretInfo, VersionInfo } from '../local-store/index.ts';
import { isAwsNotFound, toAwsSourceError } from '../aws/errors.ts';
import type { CliIo } from './_command.ts';
import type { CliStore } from './_cli-store.ts';

type Sdk = typeof import('@aws-sdk/client-secrets-manager');
type Json = Record<string, unknown>;

const CURRENT = 'AWSCURRENT';
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

interface AwsVersion {
  id: string;
  number: number;
  stages: string[];
  created: string;
}

const isoOf = (date: unknown): string => (date instanceof Date ? date.toISOString() : new Date(Number(date ?? 0) * 1000).toISOString());

export async function openAwsCliStore(region: string, endpoint: string | undefined, io: CliIo): Promise<CliStore> {
  const sdk: Sdk = await loadOptionalPeer('@aws-sdk/client-secrets-manager', '--store aws://', () => import('@aws-sdk/client-secrets-manager'));
  const { AWS_ACCESS_KEY_ID: keyId, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token } = io.env;
  const credentials = keyId && secret ? { accessKeyId: keyId, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) } : undefined;
  const client: SecretsManagerClient = new sdk.SecretsManagerClient({
    region,
    maxAttempts: 1,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
  });
  const signal = new AbortController().signal;

  const checkName = (name: string): string => {
    if (!NAME.test(name)) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'an AWS secret name holds 1-512 of A-Z a-z 0-9 / _ + = . @ -');
    return name;
  };

  /** One call; a failure becomes a KeyshiftError naming the secret and the AWS error type, never the SDK's message. */
  async function call<T>(operation: string, secretId: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      const mapped = toAwsSourceError(error, { entry: undefined, secretId, operation, signal });
      if (isAwsNotFound(error)) {
        throw new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, `AWS Secrets Manager ${operation} for secret ${secretId}: not found in ${region}`, {
          entry: secretId,
          cause: mapped,
        });
      }
      throw mapped;
    }
  }

  async function listVersions(name: string): Promise<AwsVersion[]> {
    const out: Json[] = [];
    let next: string | undefined;
    do {
      const page = await call('ListSecretVersionIds', name, () =>
        client.send(new sdk.ListSecretVersionIdsCommand({ SecretId: checkName(name), IncludeDeprecated: true, NextToken: next })),
      );
      out.push(...((page.Versions ?? []) as Json[]));
      next = page.NextToken;
    } while (next);
    return out
      .map((v) => ({ id: String(v.VersionId), stages: ((v.VersionStages as string[] | undefined) ?? []).map(String), created: isoOf(v.CreatedDate) }))
      .sort((a, b) => a.created.localeCompare(b.created))
      .map((v, i) => ({ ...v, number: i + 1 }));
  }

  const infoOf = (name: string, v: AwsVersion): VersionInfo => ({ name, version: v.number, state: 'enabled', createTime: v.created });

  function secretInfo(name: string, created: unknown, versions: AwsVersion[]): SecretInfo {
    const aliases: Record<string, number> = {};
    for (const v of versions) for (const stage of v.stages) aliases[stage] = v.number;
    return {
      name,
      createTime: isoOf(created),
      latest: versions.length === 0 ? undefined : versions.length,
      versionCount: versions.length,
      labels: {},
      annotations: {},
      aliases,
      etag: '',
      extra: {},
    };
  }

  const stateless = (what: string): Promise<never> =>
    Promise.reject(
      new KeyshiftError(
        ErrorCodes.INVALID_DECLARATION,
        `AWS Secrets Manager versions have no state to ${what}: move the staging labels instead (keyshift rotate NAME --rollback, or --abandon for AWSPENDING)`,
      ),
    );

  return {
    kind: 'aws',
    where: `aws://${region}`,

    async put(name, value, options = {}) {
      checkName(name);
      let text: string | undefined;
      try {
        text = utf8.decode(value);
      } catch {
        text = undefined;
      }
      const body = text === undefined ? { SecretBinary: value } : { SecretString: text };
      let versions: AwsVersion[];
      try {
        versions = await listVersions(name);
      } catch (error) {
        if (!(error instanceof KeyshiftError && error.code === ErrorCodes.SOURCE_NOT_FOUND) || (options.ifLatest ?? 0) !== 0) throw error;
        const created = await call('CreateSecret', name, () => client.send(new sdk.CreateSecretCommand({ Name: name, ...body })));
        const first = (await listVersions(name)).find((v) => v.id === created.VersionId);
        if (first === undefined) throw new KeyshiftError(ErrorCodes.INTERNAL, `AWS Secrets Manager CreateSecret for secret ${name}: no version listed`);
        return infoOf(name, first);
      }
      if (options.ifLatest !== undefined && options.ifLatest !== versions.length) {
        throw new KeyshiftError(ErrorCodes.CONFLICT, `AWS Secrets Manager secret ${name}: conditional put expected latest version ${options.ifLatest}, found ${versions.length}`, {
          entry: name,
        });
      }
      const put = await call('PutSecretValue', name, () => client.send(new sdk.PutSecretValueCommand({ SecretId: name, ...body })));
      const added = (await listVersions(name)).find((v) => v.id === put.VersionId);
      if (added === undefined) throw new KeyshiftError(ErrorCodes.INTERNAL, `AWS Secrets Manager PutSecretValue for secret ${name}: no version listed`);
      return infoOf(name, added);
    },

    async access(name, version = 'latest'): Promise<AccessResult> {
      checkName(name);
      const selector = String(version);
      const versions = await listVersions(name);
      let input: { SecretId: string; VersionId?: string; VersionStage?: string };
      if (/^[0-9]+$/.test(selector)) {
        const found = versions.find((v) => v.number === Number(selector));
        if (found === undefined) throw new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, `AWS Secrets Manager secret ${name} has no version ${selector}`, { entry: name });
        input = { SecretId: name, VersionId: found.id };
      } else input = { SecretId: name, VersionStage: selector === 'latest' ? CURRENT : selector };
      const got = await call('GetSecretValue', name, () => client.send(new sdk.GetSecretValueCommand(input)));
      const number = versions.find((v) => v.id === got.VersionId)?.number ?? 0;
      const value = got.SecretBinary !== undefined ? new Uint8Array(got.SecretBinary) : new Uint8Array(Buffer.from(got.SecretString ?? '', 'utf8'));
      return { name, version: number, value };
    },

    async versions(name) {
      return (await listVersions(name)).map((v) => infoOf(name, v));
    },

    async list() {
      const infos: SecretInfo[] = [];
      let next: string | undefined;
      do {
        const page = await call('ListSecrets', region, () => client.send(new sdk.ListSecretsCommand({ NextToken: next })));
        for (const entry of page.SecretList ?? []) {
          const name = String(entry.Name);
          infos.push(secretInfo(name, entry.CreatedDate, await listVersions(name)));
        }
        next = page.NextToken;
      } while (next);
      return infos.sort((a, b) => a.name.localeCompare(b.name));
    },

    async getSecret(name) {
      const described = await call('DescribeSecret', name, () => client.send(new sdk.DescribeSecretCommand({ SecretId: checkName(name) })));
      return secretInfo(name, described.CreatedDate, await listVersions(name));
    },

    enableVersion: () => stateless('enable'),
    disableVersion: () => stateless('disable'),
    destroyVersion: () => stateless('destroy'),
    rotation: undefined,
    async close() {
      client.destroy();
    },
  };
}
