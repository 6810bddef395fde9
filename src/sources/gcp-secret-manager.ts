/**
 * Google Cloud Secret Manager, through the official `@google-cloud/secret-manager`
 * client (an optional peer, imported on first use). An entry name maps to
 * `projects/{project}/secrets/{id}/versions/{latest|N|alias}`; the version reported
 * is the version number the service resolved (and, read at `latest`, its `order`, so the
 * served version never goes backwards). I/O only: the core caches and retries,
 * so the client's own retries are off and every call carries a short deadline.
 *
 * Push invalidation (Pub/Sub) reaches the core through `invalidate()`, which calls
 * the watchers: see gcp-pubsub-push.ts and gcp-pubsub-pull.ts.
 */
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { DEFAULT_FETCH_TIMEOUT_MS } from '../constants.ts';
import { crc32c } from '../gcp/crc32c.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Source, SourceGetOptions, SourceValue } from '../types.ts';
import { GrpcCode } from '../gcp/grpc-codes.ts';
import { type GcpClientOptions, newSecretManagerClient } from '../gcp/client.ts';
import { parseRolloutMarker, ROLLOUT_ANNOTATION } from '../core/adoption.ts';
import type { RolloutMarker } from '../types.ts';
import { writeRolloutMarker } from '../core/rollout-marker.ts';
import { grpcCodeOf, toGcpSourceError } from '../gcp/errors.ts';
import { resolveProjectId } from '../gcp/metadata.ts';
import { SECRET_ID, secretIdOf } from '../gcp/resource-names.ts';
import { checkSourceOptions } from './_check-source-options.ts';

export type { GcpClientOptions } from '../gcp/client.ts';

export interface GcpSecretManagerOptions {
  /** An existing client; it stays yours (close() leaves it open). Exclusive with `clientOptions`. */
  client?: SecretManagerServiceClient;
  /** Options for a client this source creates once and closes on close(). Default: `{}` (Application Default Credentials). */
  clientOptions?: GcpClientOptions;
  /**
   * Project id or number. Default: `GOOGLE_CLOUD_PROJECT`, then `GCLOUD_PROJECT`, then the metadata
   * server (Cloud Run and GCE name it there, and set no variable), asked on the first read;
   * without any of them the first read fails with KS_ERR_INVALID_DECLARATION.
   */
  project?: string;
  /**
   * Maps an entry name to a secret id, or to a full `projects/{p}/secrets/{s}` name
   * (optionally with `/versions/{v}`) for a secret in another project. Default: the entry name.
   */
  secretId?: (name: string) => string;
  /** The version to read: `'latest'`, a number or an alias, or one per entry. Default `'latest'`. */
  version?: string | number | ((name: string) => string | number);
  /**
   * Deadline of each AccessSecretVersion call, sent to the service as the gRPC deadline.
   * Default DEFAULT_FETCH_TIMEOUT_MS (3 s). The client's own default is 60 s per attempt and
   * 600 s in total, which would pin a refresh (or ready()) for minutes on a stuck store.
   */
  timeoutMs?: number;
}

/** The Secret Manager source: a Source that can be told, by push or pull, that secrets changed. */
export interface GcpSecretManagerSource extends Source {
  watch(onChange: (names?: readonly string[]) => void): () => void;
  /** Tells the watchers (the core) that these entries changed, or all when none are named. */
  invalidate(names?: readonly string[]): void;
  /**
   * The entries this source has read from a secret, given its resource name
   * (`projects/{p}/secrets/{s}`, with or without `/versions/{v}`). Matched on the secret id
   * only: notifications name the project by number where the config may use its id.
   */
  entriesFor(secretResource: string): string[];
  close(): Promise<void>;
}

const FULL_NAME = /^projects\/[^/]+\/secrets\/([A-Za-z0-9_-]{1,255})(\/versions\/[^/]+)?$/;

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `gcpSecretManager: ${message}`);
}

/** Resolves with `promise`, or rejects as soon as `signal` aborts (the call is left to its gRPC deadline). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

interface Payload {
  data?: Uint8Array | string | null;
  dataCrc32c?: number | string | { toString(): string } | null;
}

export function gcpSecretManager(options: GcpSecretManagerOptions = {}): GcpSecretManagerSource {
  checkSourceOptions('gcpSecretManager()', options, { client: 'object', clientOptions: 'object', project: 'string', secretId: 'function', version: 'version', timeoutMs: 'ms' });
  if (options.client && options.clientOptions) throw invalid('give either client or clientOptions, not both');
  // Cloud Run sets no project variable: without one, the metadata server names it (on first use)
  let project = options.project ?? process.env.GOOGLE_CLOUD_PROJECT ?? process.env.GCLOUD_PROJECT;
  let projectLookup: Promise<string | undefined> | undefined;
  if (project?.includes('/')) throw invalid('project must be an id or a number, not a path');
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const watchers = new Set<(names?: readonly string[]) => void>();
  /** Secret id -> entries read from it, for push notifications. */
  const readers = new Map<string, Set<string>>();
  let client: Promise<SecretManagerServiceClient> | undefined;
  let closed = false;

  /** `projects/{p}/secrets/{s}/versions/{v}` for an entry, and its secret id. */
  function resourceOf(name: string): { resource: string; secretId: string } {
    const mapped = options.secretId?.(name) ?? name;
    const full = FULL_NAME.exec(mapped);
    const version = typeof options.version === 'function' ? options.version(name) : (options.version ?? 'latest');
    if (!/^(latest|[1-9][0-9]*|[A-Za-z][A-Za-z0-9_-]{0,62})$/.test(String(version))) {
      throw invalid(`entry ${name} asks for an invalid version`);
    }
    if (full) {
      return { resource: full[2] ? mapped : `${mapped}/versions/${version}`, secretId: full[1]! };
    }
    if (!SECRET_ID.test(mapped)) throw invalid(`entry ${name} maps to an invalid secret id`);
    return { resource: `projects/${project ?? '{project}'}/secrets/${mapped}/versions/${version}`, secretId: mapped };
  }

  async function open(): Promise<SecretManagerServiceClient> {
    if (options.client) return options.client;
    return newSecretManagerClient('gcpSecretManager', options.clientOptions).catch((error: unknown) => {
      client = undefined; // the next call tries again
      throw error;
    });
  }

  async function get(name: string, { signal, maxBytes }: SourceGetOptions): Promise<SourceValue | undefined> {
    if (closed) throw new KeyshiftError(ErrorCodes.CLOSED, 'the Secret Manager source is closed', { entry: name });
    if (project === undefined) {
      projectLookup ??= resolveProjectId();
      project = await projectLookup;
      if (project === undefined || project.includes('/')) {
        project = undefined;
        projectLookup = undefined; // the next fetch asks the metadata server again
        throw invalid('no project: set the project option or GOOGLE_CLOUD_PROJECT (the metadata server, which names it on Cloud Run and GCE, did not answer)');
      }
    }
    const { resource, secretId } = resourceOf(name);
    readers.set(secretId, (readers.get(secretId) ?? new Set<string>()).add(name));
    const ctx = {
      entry: name,
      resource,
      signal,
      get closed() {
        return closed;
      },
    };
    let payload: Payload | null | undefined;
    let resolved: string | null | undefined;
    try {
      client ??= open();
      const sm = await client;
      // retry: null turns the client's retries off (it retries UNAVAILABLE and
      // RESOURCE_EXHAUSTED for up to 600 s); the core backs off instead, once, for all sources.
      const [response] = await untilAborted(sm.accessSecretVersion({ name: resource }, { timeout: timeoutMs, retry: null }), signal);
      payload = response.payload;
      resolved = response.name;
    } catch (error) {
      if (grpcCodeOf(error) === GrpcCode.NOT_FOUND && !signal.aborted) return undefined;
      throw toGcpSourceError(error, ctx);
    }
    const version = /\/versions\/([^/]+)$/.exec(resolved ?? '')?.[1] ?? resource.slice(resource.lastIndexOf('/') + 1);
    const raw = payload?.data ?? new Uint8Array(0);
    const data = typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw;
    if (data.byteLength > maxBytes) {
      throw new KeyshiftError(
        ErrorCodes.VALUE_TOO_LARGE,
        `Secret Manager ${resource} (entry ${name}) version ${version}: ${data.byteLength} bytes is over the ${maxBytes}-byte limit`,
        { entry: name, details: { resource, version, bytes: data.byteLength, maxBytes } },
      );
    }
    const expected = payload?.dataCrc32c;
    if (expected !== undefined && expected !== null && Number(String(expected)) !== crc32c(data)) {
      throw new KeyshiftError(
        ErrorCodes.CHECKSUM_MISMATCH,
        `Secret Manager ${resource} (entry ${name}) version ${version}: the payload failed its CRC32C check`,
        { entry: name, details: { source: 'gcp-secret-manager', resource, version } },
      );
    }
    // read at `latest`, an older number can only be a lagging read; an alias moved back is an explicit rollback: no order
    const ordered = resource.endsWith('/versions/latest') && /^[1-9][0-9]*$/.test(version);
    return { value: data, version, ...(ordered ? { order: Number(version) } : {}) };
  }

  /** The secret resource of an entry (`projects/P/secrets/ID`), once the project is known (after a get). */
  const secretOf = (name: string): string => resourceOf(name).resource.replace(/\/versions\/[^/]+$/, '');

  /** The entry's rollout marker: the `keyshift-rollout` annotation of the secret (docs/adoption.md). */
  async function rolloutMarker(name: string, { signal }: { signal: AbortSignal }): Promise<RolloutMarker | undefined> {
    const resource = secretOf(name);
    let annotations: Record<string, string> | null | undefined;
    try {
      client ??= open();
      const [secret] = await untilAborted((await client).getSecret({ name: resource }, { timeout: timeoutMs, retry: null }), signal);
      annotations = secret.annotations as Record<string, string> | null | undefined;
    } catch (error) {
      if (grpcCodeOf(error) === GrpcCode.NOT_FOUND && !signal.aborted) return undefined;
      throw toGcpSourceError(error, { entry: name, resource, signal, closed });
    }
    return parseRolloutMarker(name, annotations?.[ROLLOUT_ANNOTATION]);
  }

  /** Writes (or removes) the marker: UpdateSecret of the annotations with the secret's etag, retried on a lost race. */
  async function markRollout(name: string, marker: RolloutMarker | undefined, { signal }: { signal: AbortSignal }): Promise<void> {
    const resource = secretOf(name);
    client ??= open();
    const sm = await client;
    const store = {
      async getSecret() {
        const [secret] = await untilAborted(sm.getSecret({ name: resource }, { timeout: timeoutMs, retry: null }), signal);
        return { annotations: { ...((secret.annotations as Record<string, string> | null) ?? {}) }, etag: secret.etag ?? '' };
      },
      async updateSecret(_: string, patch: { annotations?: Record<string, string> }, conditions: { ifEtag?: string } = {}) {
        try {
          await untilAborted(
            sm.updateSecret({ secret: { name: resource, annotations: patch.annotations ?? {}, etag: conditions.ifEtag ?? '' }, updateMask: { paths: ['annotations'] } }, { timeout: timeoutMs, retry: null }),
            signal,
          );
        } catch (error) {
          const code = grpcCodeOf(error);
          if (code === GrpcCode.ABORTED || code === GrpcCode.FAILED_PRECONDITION) {
            throw new KeyshiftError(ErrorCodes.CONFLICT, `Secret Manager ${resource}: changed since etag`, { entry: name });
          }
          throw toGcpSourceError(error, { entry: name, resource, signal, closed });
        }
      },
    };
    await writeRolloutMarker(store, name, marker, signal);
  }

  return {
    kind: 'gcp-secret-manager',
    get,
    rolloutMarker,
    markRollout,
    locate(name) {
      try {
        return `Secret Manager ${resourceOf(name).resource}`;
      } catch {
        return `Secret Manager secret for entry ${name} (its id or version is invalid)`;
      }
    },
    watch(onChange) {
      const listener = (names?: readonly string[]): void => onChange(names);
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
    invalidate(names) {
      if (closed) return;
      // Every watcher runs even if one throws; the first failure is rethrown afterwards.
      const failures: unknown[] = [];
      for (const watcher of [...watchers]) {
        try {
          watcher(names);
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length > 0) throw failures[0];
    },
    entriesFor(secretResource) {
      const id = secretIdOf(secretResource);
      return id === undefined ? [] : [...(readers.get(id) ?? [])];
    },
    async close() {
      if (closed) return;
      closed = true;
      watchers.clear();
      const opened = await client?.catch(() => undefined);
      if (opened && !options.client) await opened.close();
    },
  };
}
