/**
 * AWS Secrets Manager, through the official `@aws-sdk/client-secrets-manager`
 * (an optional peer, imported on first use). An entry name maps to a SecretId
 * (name or ARN), a version stage or id, and optionally a field of a JSON secret.
 * The reported version is the AWS VersionId; read by stage, its creation date is its
 * `order` (see `orderByCreatedDate`). I/O only: the core caches and retries,
 * so the SDK's own retries are turned off for every call.
 */
import type {
  BatchGetSecretValueCommandOutput,
  SecretsManagerClient,
  SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import type { MiddlewareStack } from '@smithy/types';
import { loadOptionalPeer } from '../_optional-peer.ts';
import { AWS_BATCH_GET_CONCURRENCY, AWS_BATCH_GET_MAX_IDS, DEFAULT_AWS_VERSION_STAGE } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Source, SourceGetOptions, SourceValue } from '../types.ts';
import { isAwsNotFound, toAwsSourceError } from '../aws/errors.ts';
import { type AwsSecretSelection, isSameSecret, toAwsSourceValue } from './_aws-secret-value.ts';
import { checkSourceOptions } from './_check-source-options.ts';

export type { AwsSecretSelection } from './_aws-secret-value.ts';

/** This part's defaults and limits. */
export {
  AWS_BATCH_GET_CONCURRENCY,
  AWS_BATCH_GET_MAX_IDS,
  DEFAULT_AWS_VERSION_STAGE,
} from '../constants.ts';

export interface AwsSecretsManagerOptions {
  /** An existing client; it stays yours (close() leaves it open). Exclusive with `clientConfig`. */
  client?: SecretsManagerClient;
  /** Config for a client this source creates (with `maxAttempts: 1`) and destroys on close(). Default: `{}` (region and credentials from the environment). */
  clientConfig?: SecretsManagerClientConfig;
  /** Maps an entry name to a SecretId (name or ARN). Default: the entry name itself. */
  secretId?: (name: string) => string;
  /** The staging label to read. Default `AWSCURRENT` (DEFAULT_AWS_VERSION_STAGE). Exclusive with `versionId`. */
  versionStage?: string;
  /** A pinned VersionId for every entry. Default: none (read by stage). */
  versionId?: string;
  /** A field of a JSON secret to serve (for example `password` of an RDS secret). Default: the whole secret. */
  jsonKey?: string;
  /** Per-entry choice of secret, version and field; overrides the four options above. Default: none. */
  select?: (name: string) => AwsSecretSelection;
  /**
   * Order the versions read by stage by their creation date (`SourceValue.order`), so an
   * instance never serves an older version than it served: an answer from a lagging read
   * is counted (`out-of-order`) and not applied. Moving `AWSCURRENT` back to an older
   * version is then not applied either: roll back by writing the old value as a new
   * version, or set this to false to serve whatever the stage points at. Default true.
   */
  orderByCreatedDate?: boolean;
}

/** The AWS source: a Source plus a batched read for startup. */
export interface AwsSecretsManagerSource extends Source {
  /**
   * Reads many entries with BatchGetSecretValue (20 ids a call, AWSCURRENT only).
   * The map holds every name settled: a value, or undefined for not-found. Names it
   * leaves out (pinned versions, other stages, per-secret errors) must be read with
   * `get`, which reports their precise error. Rejects only when every batch call failed.
   */
  getMany(names: readonly string[], options: SourceGetOptions): Promise<Map<string, SourceValue | undefined>>;
  close(): Promise<void>;
}

type Sdk = typeof import('@aws-sdk/client-secrets-manager');
interface Connection {
  readonly sdk: Sdk;
  readonly client: SecretsManagerClient;
}

/** A pass-through that replaces the client's retry middleware for one call: the core retries. */
function withoutSdkRetries<I extends object, O extends object>(stack: MiddlewareStack<I, O>): void {
  stack.add((next) => (args) => next(args), {
    name: 'retryMiddleware',
    step: 'finalizeRequest',
    priority: 'high',
    tags: ['RETRY'],
    override: true,
  });
}

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `awsSecretsManager: ${message}`);
}

export function awsSecretsManager(options: AwsSecretsManagerOptions = {}): AwsSecretsManagerSource {
  checkSourceOptions('awsSecretsManager()', options, {
    client: 'object',
    clientConfig: 'object',
    secretId: 'function',
    versionStage: 'string',
    versionId: 'string',
    jsonKey: 'string',
    select: 'function',
    orderByCreatedDate: 'boolean',
  });
  if (options.client && options.clientConfig) throw invalid('give either client or clientConfig, not both');
  if (options.versionStage !== undefined && options.versionId !== undefined) {
    throw invalid('give either versionStage or versionId, not both');
  }
  const ordered = options.orderByCreatedDate ?? true;
  let connection: Promise<Connection> | undefined;
  let closed = false;
  /** The client's region once known (a config string at once; a provider's answer after the first call), for locate(). */
  let region = typeof options.clientConfig?.region === 'string' ? options.clientConfig.region : undefined;

  function selection(name: string): AwsSecretSelection {
    const sel = options.select?.(name) ?? {
      secretId: options.secretId?.(name) ?? name,
      ...(options.jsonKey === undefined ? {} : { jsonKey: options.jsonKey }),
      ...(options.versionId === undefined ? {} : { versionId: options.versionId }),
      ...(options.versionStage === undefined ? {} : { versionStage: options.versionStage }),
    };
    if (typeof sel.secretId !== 'string' || sel.secretId === '') throw invalid(`entry ${name} maps to an empty SecretId`);
    if (sel.versionStage !== undefined && sel.versionId !== undefined) {
      throw invalid(`entry ${name} names both a versionStage and a versionId`);
    }
    if (sel.versionId === undefined && sel.versionStage === undefined) {
      return { ...sel, versionStage: options.versionStage ?? DEFAULT_AWS_VERSION_STAGE };
    }
    return sel;
  }

  async function open(): Promise<Connection> {
    let sdk: Sdk;
    try {
      sdk = await loadOptionalPeer('@aws-sdk/client-secrets-manager', 'awsSecretsManager', () => import('@aws-sdk/client-secrets-manager'));
    } catch (error) {
      connection = undefined;
      throw error;
    }
    const client = options.client ?? new sdk.SecretsManagerClient({ ...options.clientConfig, maxAttempts: 1 });
    region ??= await client.config.region().catch(() => undefined);
    return { sdk, client };
  }

  function connect(): Promise<Connection> {
    if (closed) return Promise.reject(new KeyshiftError(ErrorCodes.CLOSED, 'the AWS Secrets Manager source is closed'));
    connection ??= open();
    return connection;
  }

  async function get(name: string, { signal, maxBytes }: SourceGetOptions): Promise<SourceValue | undefined> {
    const sel = selection(name);
    const { sdk, client } = await connect();
    const command = new sdk.GetSecretValueCommand({
      SecretId: sel.secretId,
      ...(sel.versionId === undefined ? { VersionStage: sel.versionStage } : { VersionId: sel.versionId }),
    });
    withoutSdkRetries(command.middlewareStack);
    try {
      const output = await client.send(command, { abortSignal: signal });
      return toAwsSourceValue(name, sel, output, maxBytes, ordered);
    } catch (error) {
      if (isAwsNotFound(error) && !signal.aborted) return undefined;
      throw toAwsSourceError(error, { entry: name, secretId: sel.secretId, operation: 'GetSecretValue', signal });
    }
  }

  /** One BatchGetSecretValue chunk (with its pages), settling the names it can. */
  async function getChunk(
    ids: readonly string[],
    bySecretId: ReadonlyMap<string, string[]>,
    { signal, maxBytes }: SourceGetOptions,
    out: Map<string, SourceValue | undefined>,
  ): Promise<void> {
    const { sdk, client } = await connect();
    let nextToken: string | undefined;
    do {
      const command = new sdk.BatchGetSecretValueCommand({ SecretIdList: [...ids], NextToken: nextToken });
      withoutSdkRetries(command.middlewareStack);
      let page: BatchGetSecretValueCommandOutput;
      try {
        page = await client.send(command, { abortSignal: signal });
      } catch (error) {
        const secretId = `${ids.length} secrets`;
        throw toAwsSourceError(error, { entry: undefined, secretId, operation: 'BatchGetSecretValue', signal });
      }
      for (const payload of page.SecretValues ?? []) {
        const matching = ids.filter((id) => isSameSecret(id, payload));
        for (const name of matching.flatMap((id) => bySecretId.get(id) ?? [])) {
          try {
            out.set(name, toAwsSourceValue(name, selection(name), payload, maxBytes, ordered));
          } catch {
            // Left out on purpose: get() reports this entry's precise error.
          }
        }
      }
      for (const failure of page.Errors ?? []) {
        if (failure.ErrorCode !== 'ResourceNotFoundException' || failure.SecretId === undefined) continue;
        for (const name of bySecretId.get(failure.SecretId) ?? []) out.set(name, undefined);
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }

  async function getMany(
    names: readonly string[],
    options: SourceGetOptions,
  ): Promise<Map<string, SourceValue | undefined>> {
    const bySecretId = new Map<string, string[]>();
    for (const name of names) {
      const sel = selection(name);
      if (sel.versionId !== undefined || sel.versionStage !== DEFAULT_AWS_VERSION_STAGE) continue;
      bySecretId.set(sel.secretId, [...(bySecretId.get(sel.secretId) ?? []), name]);
    }
    const ids = [...bySecretId.keys()];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += AWS_BATCH_GET_MAX_IDS) chunks.push(ids.slice(i, i + AWS_BATCH_GET_MAX_IDS));
    const out = new Map<string, SourceValue | undefined>();
    const failures: unknown[] = [];
    let next = 0;
    async function worker(): Promise<void> {
      for (let chunk = chunks[next++]; chunk; chunk = chunks[next++]) {
        await getChunk(chunk, bySecretId, options, out).catch((error: unknown) => failures.push(error));
      }
    }
    await Promise.all(Array.from({ length: Math.min(AWS_BATCH_GET_CONCURRENCY, chunks.length) }, worker));
    if (chunks.length > 0 && failures.length === chunks.length) throw failures[0];
    return out;
  }

  return {
    kind: 'aws-secrets-manager',
    get,
    getMany,
    locate(name) {
      const where = region === undefined ? 'in the region of the client' : `in region ${region}`;
      try {
        const sel = selection(name);
        const version = sel.versionId === undefined ? `stage ${sel.versionStage}` : `version ${sel.versionId}`;
        return `AWS Secrets Manager secret ${sel.secretId} (${version}${sel.jsonKey === undefined ? '' : `, field ${sel.jsonKey}`}) ${where}`;
      } catch {
        return `AWS Secrets Manager secret for entry ${name} (its SecretId or version is invalid) ${where}`;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      const opened = await connection?.catch(() => undefined);
      if (opened && !options.client) opened.client.destroy();
    },
  };
}
