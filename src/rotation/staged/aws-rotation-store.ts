/**
 * AWS Secrets Manager for staged rotations and the CLI's `aws://REGION` store, through
 * the official `@aws-sdk/client-secrets-manager` (an optional peer, imported on first use):
 *
 *   const store = awsRotationStore({ clientConfig: { region: 'eu-west-1' } });
 *   const runner = createAwsRotationRunner({ store });
 *
 * AWS has no version numbers: version N is the N-th version created (ListSecretVersionIds
 * by CreatedDate, deprecated ones included), `latest` and `current` are the AWSCURRENT
 * label, `previous` AWSPREVIOUS, and any other name is a staging label. A UTF-8 value is
 * a SecretString, anything else a SecretBinary. AWS versions have no state: disable,
 * enable and destroy are refused. Secret metadata keyshift writes (`updateSecret`) does
 * not exist either: a rotation on AWS keeps its record in the secret's tags instead (see
 * aws-rotation-runner.ts), through `tag` / `untag`.
 *
 * The stage operations the AWS rotation uses: `describe` (DescribeSecret for the tags,
 * ListSecretVersionIds for the versions and their labels), `putVersion` (PutSecretValue
 * with a ClientRequestToken, idempotent on it, and the labels given), `moveStage`
 * (UpdateSecretVersionStage; AWS refuses it with InvalidParameterException when the
 * label is not where RemoveFromVersionId says, which is KS_ERR_CONFLICT here: the
 * compare-and-swap rotations rely on) and `readVersion` (GetSecretValue by VersionId).
 *
 * Errors are KeyshiftErrors naming the secret and the AWS error type; the SDK's message
 * is never copied and no value ever appears. IAM: secretsmanager:GetSecretValue,
 * PutSecretValue, DescribeSecret, ListSecretVersionIds, UpdateSecretVersionStage,
 * TagResource, UntagResource (and CreateSecret, ListSecrets for the CLI).
 */
import type { SecretsManagerClient, SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { loadOptionalPeer } from '../../_optional-peer.ts';
import { isAwsNotFound, toAwsSourceError } from '../../aws/errors.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { AccessResult, SecretInfo, SecretMeta, VersionInfo } from '../../local-store/index.ts';
import type { RotationStore } from './_rotation-state.ts';

type Sdk = typeof import('@aws-sdk/client-secrets-manager');

export const AWS_CURRENT = 'AWSCURRENT';
export const AWS_PREVIOUS = 'AWSPREVIOUS';
export const AWS_PENDING = 'AWSPENDING';
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const MAX_SECRET_BYTES = 65_536;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One version of a secret, numbered by creation (1 = the first created). */
export interface AwsVersion {
  readonly id: string;
  readonly number: number;
  readonly stages: readonly string[];
  readonly created: string;
}

/** A secret's versions (oldest first) and tags, as one rotation step sees them. */
export interface AwsSecretState {
  readonly name: string;
  readonly created: string;
  readonly versions: readonly AwsVersion[];
  readonly tags: Readonly<Record<string, string>>;
}

export interface AwsRotationStoreOptions {
  /** An existing client; it stays yours (close() leaves it open). Exclusive with `clientConfig`. */
  client?: SecretsManagerClient;
  /** Config for a client this store creates (with `maxAttempts: 1`) and destroys on close(). Default `{}`. */
  clientConfig?: SecretsManagerClientConfig;
  /** Where the store is, for messages (`aws://eu-west-1`). Default `aws`. */
  where?: string;
}

export interface AwsRotationStore extends RotationStore {
  readonly kind: 'aws-secrets-manager';
  readonly where: string;
  /** Every secret of the region (ListSecrets, then ListSecretVersionIds each). */
  list(): Promise<SecretInfo[]>;
  /** The versions, their labels and the secret's tags. */
  describe(name: string): Promise<AwsSecretState>;
  /** GetSecretValue of one VersionId. */
  readVersion(name: string, versionId: string): Promise<AccessResult>;
  /** PutSecretValue with `token` as ClientRequestToken (the same token and value again: no new version) and `stages`. Resolves the VersionId. */
  putVersion(name: string, value: Uint8Array, token: string, stages: readonly string[]): Promise<string>;
  /** UpdateSecretVersionStage; a label not where `removeFrom` says (or attached elsewhere without it) is KS_ERR_CONFLICT. */
  moveStage(name: string, stage: string, move: { moveTo?: string; removeFrom?: string }): Promise<void>;
  /** TagResource. */
  tag(name: string, tags: Record<string, string>): Promise<void>;
  /** UntagResource. */
  untag(name: string, keys: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

const isoOf = (date: unknown): string => (date instanceof Date ? date.toISOString() : new Date(Number(date ?? 0) * 1000).toISOString());

function invalid(message: string, entry?: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, message, entry === undefined ? {} : { entry });
}

const errorName = (error: unknown): unknown => (typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined);

export function awsRotationStore(options: AwsRotationStoreOptions = {}): AwsRotationStore {
  if (options.client && options.clientConfig) throw invalid('awsRotationStore: give either client or clientConfig, not both');
  const where = options.where ?? 'aws';
  const signal = new AbortController().signal;
  let opened: Promise<{ sdk: Sdk; client: SecretsManagerClient }> | undefined;
  let closed = false;

  function open(): Promise<{ sdk: Sdk; client: SecretsManagerClient }> {
    if (closed) return Promise.reject(new KeyshiftError(ErrorCodes.CLOSED, 'the AWS Secrets Manager rotation store is closed'));
    opened ??= loadOptionalPeer('@aws-sdk/client-secrets-manager', `the AWS Secrets Manager store (${where})`, () => import('@aws-sdk/client-secrets-manager')).then(
      (sdk) => ({ sdk, client: options.client ?? new sdk.SecretsManagerClient({ ...options.clientConfig, maxAttempts: 1 }) }),
      (error: unknown) => {
        opened = undefined;
        throw error;
      },
    );
    return opened;
  }

  const checkName = (name: string): string => {
    if (!NAME.test(name)) throw invalid('an AWS secret name holds 1-512 of A-Z a-z 0-9 / _ + = . @ -', name.slice(0, 40));
    return name;
  };

  /** One call; a failure becomes a KeyshiftError naming the secret and the AWS error type, never the SDK's message. */
  async function call<T>(operation: string, secretId: string, fn: (sdk: Sdk, client: SecretsManagerClient) => Promise<T>, conflict?: () => string): Promise<T> {
    const { sdk, client } = await open();
    try {
      return await fn(sdk, client);
    } catch (error) {
      const mapped = toAwsSourceError(error, { entry: undefined, secretId, operation, signal });
      if (isAwsNotFound(error)) {
        throw new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, `AWS Secrets Manager ${operation} for secret ${secretId}: not found in ${where}`, {
          entry: secretId,
          cause: mapped,
        });
      }
      if (conflict !== undefined && (errorName(error) === 'InvalidParameterException' || errorName(error) === 'ResourceExistsException')) {
        throw new KeyshiftError(ErrorCodes.CONFLICT, `AWS Secrets Manager ${operation} for secret ${secretId}: ${conflict()}`, { entry: secretId, cause: mapped });
      }
      throw mapped;
    }
  }

  async function listVersions(name: string): Promise<AwsVersion[]> {
    const out: Array<{ VersionId?: string; VersionStages?: string[]; CreatedDate?: unknown }> = [];
    let next: string | undefined;
    do {
      const page = await call('ListSecretVersionIds', name, (sdk, client) =>
        client.send(new sdk.ListSecretVersionIdsCommand({ SecretId: checkName(name), IncludeDeprecated: true, NextToken: next })),
      );
      out.push(...(page.Versions ?? []));
      next = page.NextToken;
    } while (next);
    return out
      .map((v) => ({ id: String(v.VersionId), stages: (v.VersionStages ?? []).map(String), created: isoOf(v.CreatedDate) }))
      .sort((a, b) => a.created.localeCompare(b.created))
      .map((v, i) => ({ ...v, number: i + 1 }));
  }

  const infoOf = (name: string, v: AwsVersion): VersionInfo => ({ name, version: v.number, state: 'enabled', createTime: v.created });

  function secretInfo(name: string, created: unknown, versions: readonly AwsVersion[]): SecretInfo {
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

  const body = (value: Uint8Array): { SecretString: string } | { SecretBinary: Uint8Array } => {
    try {
      return { SecretString: utf8.decode(value) };
    } catch {
      return { SecretBinary: value };
    }
  };

  const bytesOf = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'utf8')) : value);

  function checkSize(name: string, value: Uint8Array): void {
    if (value.byteLength > MAX_SECRET_BYTES) {
      throw new KeyshiftError(ErrorCodes.VALUE_TOO_LARGE, `AWS Secrets Manager secret ${name}: a value of ${value.byteLength} bytes is over the ${MAX_SECRET_BYTES}-byte limit`, {
        entry: name,
        details: { bytes: value.byteLength, maxBytes: MAX_SECRET_BYTES },
      });
    }
  }

  async function getValue(name: string, input: { VersionId?: string; VersionStage?: string }): Promise<{ versionId: string; value: Uint8Array }> {
    const got = await call('GetSecretValue', name, (sdk, client) => client.send(new sdk.GetSecretValueCommand({ SecretId: checkName(name), ...input })));
    const value = got.SecretBinary !== undefined ? new Uint8Array(got.SecretBinary) : new Uint8Array(Buffer.from(got.SecretString ?? '', 'utf8'));
    return { versionId: String(got.VersionId), value };
  }

  const stageOf = (selector: string): string => (selector === 'latest' || selector === 'current' ? AWS_CURRENT : selector === 'previous' ? AWS_PREVIOUS : selector);

  const store: AwsRotationStore = {
    kind: 'aws-secrets-manager',
    where,

    async getSecret(name) {
      const described = await call('DescribeSecret', name, (sdk, client) => client.send(new sdk.DescribeSecretCommand({ SecretId: checkName(name) })));
      return secretInfo(name, described.CreatedDate, await listVersions(name));
    },

    async createSecret(name: string, _meta?: SecretMeta) {
      checkName(name);
      await call('CreateSecret', name, (sdk, client) => client.send(new sdk.CreateSecretCommand({ Name: name })), () => 'the secret already exists');
      return store.getSecret(name);
    },

    updateSecret: (name) =>
      Promise.reject(
        new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `AWS Secrets Manager secret ${name}: keyshift keeps no labels, annotations or aliases on AWS (its staging labels move with keyshift rotate)`, {
          entry: name,
        }),
      ),

    async put(name, raw, conditions = {}) {
      checkName(name);
      const value = bytesOf(raw);
      checkSize(name, value);
      let versions: AwsVersion[];
      try {
        versions = await listVersions(name);
      } catch (error) {
        if (!(error instanceof KeyshiftError && error.code === ErrorCodes.SOURCE_NOT_FOUND) || (conditions.ifLatest ?? 0) !== 0) throw error;
        const created = await call('CreateSecret', name, (sdk, client) => client.send(new sdk.CreateSecretCommand({ Name: name, ...body(value) })), () => 'the secret already exists');
        const first = (await listVersions(name)).find((v) => v.id === created.VersionId);
        if (first === undefined) throw new KeyshiftError(ErrorCodes.INTERNAL, `AWS Secrets Manager CreateSecret for secret ${name}: no version listed`);
        return infoOf(name, first);
      }
      if (conditions.ifLatest !== undefined && conditions.ifLatest !== versions.length) {
        throw new KeyshiftError(ErrorCodes.CONFLICT, `AWS Secrets Manager secret ${name}: conditional put expected latest version ${conditions.ifLatest}, found ${versions.length}`, {
          entry: name,
        });
      }
      const put = await call('PutSecretValue', name, (sdk, client) => client.send(new sdk.PutSecretValueCommand({ SecretId: name, ...body(value) })));
      const added = (await listVersions(name)).find((v) => v.id === put.VersionId);
      if (added === undefined) throw new KeyshiftError(ErrorCodes.INTERNAL, `AWS Secrets Manager PutSecretValue for secret ${name}: no version listed`);
      return infoOf(name, added);
    },

    async access(name, version = 'latest', limits = {}) {
      checkName(name);
      const selector = String(version);
      const versions = await listVersions(name);
      let input: { VersionId?: string; VersionStage?: string };
      if (/^[0-9]+$/.test(selector)) {
        const found = versions.find((v) => v.number === Number(selector));
        if (found === undefined) throw new KeyshiftError(ErrorCodes.SOURCE_NOT_FOUND, `AWS Secrets Manager secret ${name} has no version ${selector}`, { entry: name });
        input = { VersionId: found.id };
      } else input = { VersionStage: stageOf(selector) };
      const { versionId, value } = await getValue(name, input);
      if (limits.maxBytes !== undefined && value.byteLength > limits.maxBytes) {
        const size = value.byteLength;
        value.fill(0);
        throw new KeyshiftError(ErrorCodes.VALUE_TOO_LARGE, `AWS Secrets Manager secret ${name}: the value is ${size} bytes, over the ${limits.maxBytes}-byte limit`, { entry: name });
      }
      return { name, version: versions.find((v) => v.id === versionId)?.number ?? 0, value };
    },

    async versions(name) {
      return (await listVersions(name)).map((v) => infoOf(name, v));
    },

    destroyVersion: (name) =>
      Promise.reject(
        new KeyshiftError(
          ErrorCodes.INVALID_DECLARATION,
          'AWS Secrets Manager versions have no state to destroy: move the staging labels instead (keyshift rotate NAME --rollback, or --abandon for AWSPENDING)',
          { entry: name },
        ),
      ),

    async list() {
      const infos: SecretInfo[] = [];
      let next: string | undefined;
      do {
        const page = await call('ListSecrets', where, (sdk, client) => client.send(new sdk.ListSecretsCommand({ NextToken: next })));
        for (const entry of page.SecretList ?? []) {
          const name = String(entry.Name);
          infos.push(secretInfo(name, entry.CreatedDate, await listVersions(name)));
        }
        next = page.NextToken;
      } while (next);
      return infos.sort((a, b) => a.name.localeCompare(b.name));
    },

    async describe(name) {
      const described = await call('DescribeSecret', name, (sdk, client) => client.send(new sdk.DescribeSecretCommand({ SecretId: checkName(name) })));
      const tags: Record<string, string> = {};
      for (const tag of described.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
      return { name, created: isoOf(described.CreatedDate), versions: await listVersions(name), tags };
    },

    async readVersion(name, versionId) {
      const versions = await listVersions(name);
      const { value } = await getValue(name, { VersionId: versionId });
      return { name, version: versions.find((v) => v.id === versionId)?.number ?? 0, value };
    },

    async putVersion(name, value, token, stages) {
      checkSize(name, value);
      const put = await call(
        'PutSecretValue',
        name,
        (sdk, client) => client.send(new sdk.PutSecretValueCommand({ SecretId: checkName(name), ClientRequestToken: token, VersionStages: [...stages], ...body(value) })),
        () => `version ${token} already exists with another value`,
      );
      return String(put.VersionId);
    },

    async moveStage(name, stage, move) {
      await call(
        'UpdateSecretVersionStage',
        name,
        (sdk, client) =>
          client.send(
            new sdk.UpdateSecretVersionStageCommand({
              SecretId: checkName(name),
              VersionStage: stage,
              ...(move.moveTo === undefined ? {} : { MoveToVersionId: move.moveTo }),
              ...(move.removeFrom === undefined ? {} : { RemoveFromVersionId: move.removeFrom }),
            }),
          ),
        () => `the staging label ${stage} is not where this change expected it (it moved since)`,
      );
    },

    async tag(name, tags) {
      const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
      await call('TagResource', name, (sdk, client) => client.send(new sdk.TagResourceCommand({ SecretId: checkName(name), Tags })));
    },

    async untag(name, keys) {
      await call('UntagResource', name, (sdk, client) => client.send(new sdk.UntagResourceCommand({ SecretId: checkName(name), TagKeys: [...keys] })));
    },

    async close() {
      if (closed) return;
      closed = true;
      const made = await opened?.catch(() => undefined);
      if (made && !options.client) made.client.destroy();
    },
  };
  return store;
}
