/**
 * A RotationStore over Google Cloud Secret Manager, through the official
 * `@google-cloud/secret-manager` client (an optional peer, imported on first use),
 * so that scheduled rotations write where the secrets already live:
 *
 *   const store = gcpRotationStore({ project: 'pgp-prod' });
 *   const runner = createRotationRunner({ store });
 *
 * The mapping:
 * - getSecret: GetSecret, plus ListSecretVersions (newest first, one row) for the
 *   latest version number and the version count.
 * - createSecret: CreateSecret with automatic replication.
 * - updateSecret(..., { ifEtag }): UpdateSecret with `secret.etag` set, so the service
 *   refuses it (ABORTED, or FAILED_PRECONDITION) when the secret changed since: that
 *   is KS_ERR_CONFLICT, the code the local store throws, and the rotation lock.
 * - `extra` is kept as JSON in one annotation, `keyshift-extra`; the aliases are the
 *   secret's `versionAliases`. Annotations must total under 16 KiB (keys and values):
 *   a write over it fails here, before the call, as KS_ERR_VALUE_TOO_LARGE.
 * - put: AddSecretVersion (with its CRC32C). Secret Manager has no conditional
 *   AddSecretVersion: `ifLatest` is checked by a read just before the add, so a writer
 *   outside keyshift adding a version in between is not caught. Runners never race
 *   there: they hold the rotation's lease, an etag-conditional write, first.
 * - access: AccessSecretVersion, its `data_crc32c` checked when present.
 * - versions: ListSecretVersions; destroyVersion: DestroySecretVersion.
 *
 * Errors are KeyshiftErrors naming the resource path and the gRPC code; the service's
 * own message is never copied and no value ever appears.
 *
 * IAM: roles/secretmanager.secretAccessor (access), secretVersionAdder (put),
 * secretVersionManager (destroy, list), and secretmanager.secrets.get/create/update
 * (metadata, annotations, aliases), e.g. roles/secretmanager.admin on the rotated secrets.
 */
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { crc32c } from '../../gcp/crc32c.ts';
import { GrpcCode, grpcCodeName } from '../../gcp/grpc-codes.ts';
import { type ErrorCode, ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { AccessResult, SecretInfo, SecretMeta, SecretPatch, VersionInfo, VersionState } from '../../local-store/index.ts';
import { type GcpClientOptions, newSecretManagerClient } from '../../gcp/client.ts';
import { classifyTransport, grpcCodeOf } from '../../gcp/errors.ts';
import { ALIAS, PROJECT_ID, SECRET_ID, VERSION_ID } from '../../gcp/resource-names.ts';
import type { RotationStore } from './_rotation-state.ts';

/** The annotation `extra` is kept in, as JSON. */
export const GCP_EXTRA_ANNOTATION = 'keyshift-extra';
/** Secret Manager's limit on the total size of a secret's annotation keys and values (which must be less). */
export const GCP_MAX_ANNOTATIONS_BYTES = 16 * 1024;
/** Secret Manager's payload limit. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

export interface GcpRotationStoreOptions {
  /** Project id or number. Default: `GOOGLE_CLOUD_PROJECT`, then `GCLOUD_PROJECT`; one is required. */
  project?: string;
  /** An existing client; it stays yours (close() leaves it open). Exclusive with `clientOptions`. */
  client?: SecretManagerServiceClient;
  /** Options for a client this store creates on first use and closes on close(). Default `{}` (Application Default Credentials). */
  clientOptions?: GcpClientOptions;
  /** Deadline of each call. Default 10,000 ms. The client's own retries are off: a rotation retries as a whole. */
  timeoutMs?: number;
}

export interface GcpRotationStore extends RotationStore {
  readonly kind: 'gcp-secret-manager';
  /** DisableSecretVersion (for the CLI; rotations never disable). */
  disableVersion(name: string, version: number): Promise<VersionInfo>;
  /** EnableSecretVersion. */
  enableVersion(name: string, version: number): Promise<VersionInfo>;
  /** Every secret of the project, with its metadata (ListSecrets, then one ListSecretVersions each). */
  list(): Promise<SecretInfo[]>;
  /** Closes the client this store created (not an injected one). */
  close(): Promise<void>;
}

type Call = { timeout: number; retry: null };
type Secret = {
  name?: string | null;
  createTime?: { seconds?: number | string | { toString(): string } | null; nanos?: number | null } | null;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  versionAliases?: Record<string, number | string | { toString(): string }> | null;
  etag?: string | null;
};
type Version = { name?: string | null; state?: string | number | null; createTime?: Secret['createTime'] };

function invalid(message: string, entry?: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `gcpRotationStore: ${message}`, entry === undefined ? {} : { entry });
}

const utf8Bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

function isoOf(t: Secret['createTime']): string {
  const ms = Number(String(t?.seconds ?? 0)) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
  return new Date(ms).toISOString();
}

function versionNumberOf(name: string | null | undefined): number {
  const n = Number(/\/versions\/([0-9]+)$/.exec(name ?? '')?.[1]);
  return Number.isSafeInteger(n) ? n : 0;
}

function stateOf(state: Version['state']): VersionState {
  if (state === 'DISABLED' || state === 2) return 'disabled';
  if (state === 'DESTROYED' || state === 3) return 'destroyed';
  return 'enabled';
}

/** Which KeyshiftError a failed call is, by its gRPC code only (the service's message is never kept). */
function classify(code: number | undefined, method: string, resource: string, conditional: boolean): { code: ErrorCode; message: string } {
  const what = `Secret Manager ${method} for ${resource}`;
  switch (code) {
    case GrpcCode.NOT_FOUND:
      return { code: ErrorCodes.SOURCE_NOT_FOUND, message: `${what}: not found` };
    case GrpcCode.ALREADY_EXISTS:
      return { code: ErrorCodes.CONFLICT, message: `${what}: the secret already exists` };
    case GrpcCode.ABORTED:
      return conditional
        ? { code: ErrorCodes.CONFLICT, message: `${what}: the secret was changed since the etag given` }
        : { code: ErrorCodes.SOURCE_UNAVAILABLE, message: `${what} was aborted (concurrent change); try again` };
    case GrpcCode.FAILED_PRECONDITION:
      return conditional
        ? { code: ErrorCodes.CONFLICT, message: `${what}: the secret was changed since the etag given` }
        : { code: ErrorCodes.VERSION_DISABLED, message: `${what} failed: the version is disabled or destroyed` };
    case GrpcCode.PERMISSION_DENIED:
      return {
        code: ErrorCodes.SOURCE_DENIED,
        message: `${what} was denied: check the caller's IAM roles on the secret (secretAccessor, secretVersionAdder, secretVersionManager, and secretmanager.secrets.update for annotations) and that it exists in that project`,
      };
    case GrpcCode.UNAUTHENTICATED:
      return { code: ErrorCodes.SOURCE_DENIED, message: `${what} was refused: the Google credentials are missing, expired or invalid` };
    case GrpcCode.INVALID_ARGUMENT:
      return { code: ErrorCodes.INVALID_DECLARATION, message: `${what} was rejected as malformed (names, labels, annotations or aliases)` };
    default:
      return classifyTransport(code, what); // ABORTED never gets there: handled above
  }
}

export function gcpRotationStore(options: GcpRotationStoreOptions = {}): GcpRotationStore {
  if (options.client && options.clientOptions) throw invalid('give either client or clientOptions, not both');
  const project = options.project ?? process.env.GOOGLE_CLOUD_PROJECT ?? process.env.GCLOUD_PROJECT;
  if (!project) throw invalid('no project: set the project option or GOOGLE_CLOUD_PROJECT');
  if (!PROJECT_ID.test(project)) throw invalid('project must be an id or a number, not a path');
  const call: Call = { timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, retry: null };
  let client: Promise<SecretManagerServiceClient> | undefined;
  let closed = false;

  async function open(): Promise<SecretManagerServiceClient> {
    if (options.client) return options.client;
    return newSecretManagerClient('gcpRotationStore', options.clientOptions).catch((error: unknown) => {
      client = undefined; // the next call tries again
      throw error;
    });
  }

  const secretPath = (name: string): string => {
    if (!SECRET_ID.test(name)) throw invalid(`secret id ${name.slice(0, 40)} is not a valid Secret Manager id`, name);
    return `projects/${project}/secrets/${name}`;
  };

  /** Runs one client call; a failure becomes a KeyshiftError naming `resource` and the gRPC code. */
  async function run<T>(name: string, method: string, resource: string, fn: (sm: SecretManagerServiceClient) => Promise<T>, conditional = false): Promise<T> {
    if (closed) throw new KeyshiftError(ErrorCodes.CLOSED, 'the Secret Manager rotation store is closed', { entry: name });
    client ??= open();
    const sm = await client;
    try {
      return await fn(sm);
    } catch (error) {
      if (error instanceof KeyshiftError) throw error;
      const grpc = grpcCodeOf(error);
      const { code, message } = classify(grpc, method, resource, conditional);
      const codeName = grpc === undefined ? 'NONE' : grpcCodeName(grpc);
      const cause = new Error(grpc === undefined ? 'no gRPC status' : `gRPC ${codeName}`);
      throw new KeyshiftError(code, message, { entry: name, cause, details: { source: 'gcp-secret-manager', resource, method, grpcCode: codeName } });
    }
  }

  /** The newest version's number and the version count: one row of ListSecretVersions (newest first). */
  async function latestOf(name: string): Promise<{ latest: number | undefined; versionCount: number }> {
    const parent = secretPath(name);
    const [versions, , response] = await run(name, 'ListSecretVersions', parent, (sm) =>
      sm.listSecretVersions({ parent, pageSize: 1 }, { ...call, autoPaginate: false }),
    );
    const newest = versionNumberOf(versions[0]?.name);
    const total = Number(response?.totalSize ?? 0);
    return { latest: newest === 0 ? undefined : newest, versionCount: Math.max(total, newest === 0 ? 0 : 1) };
  }

  /** SecretInfo from a Secret message: `extra` read back from its annotation. */
  function infoOf(name: string, secret: Secret, latest: { latest: number | undefined; versionCount: number }): SecretInfo {
    const { [GCP_EXTRA_ANNOTATION]: rawExtra, ...annotations } = secret.annotations ?? {};
    let extra: Record<string, unknown> = {};
    if (rawExtra !== undefined && rawExtra !== '') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawExtra);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new KeyshiftError(
          ErrorCodes.STORE_CORRUPT,
          `Secret Manager ${secretPath(name)}: annotation ${GCP_EXTRA_ANNOTATION} is not a JSON object (another tool wrote it); fix or remove it`,
          { entry: name, details: { resource: secretPath(name) } },
        );
      }
      extra = parsed as Record<string, unknown>;
    }
    const aliases: Record<string, number> = {};
    for (const [alias, version] of Object.entries(secret.versionAliases ?? {})) aliases[alias] = Number(String(version));
    return {
      name,
      createTime: isoOf(secret.createTime),
      latest: latest.latest,
      versionCount: latest.versionCount,
      labels: { ...secret.labels },
      annotations,
      aliases,
      etag: secret.etag ?? '',
      extra,
    };
  }

  /** The annotations to send: the user's plus `extra` as JSON, refused here when over the service's limit. */
  function annotationsOf(name: string, annotations: Record<string, string>, extra: Record<string, unknown>): Record<string, string> {
    if (GCP_EXTRA_ANNOTATION in annotations) throw invalid(`secret ${name}: annotation ${GCP_EXTRA_ANNOTATION} is keyshift's own (it holds extra)`, name);
    const out: Record<string, string> = { ...annotations };
    if (Object.keys(extra).length > 0) out[GCP_EXTRA_ANNOTATION] = JSON.stringify(extra);
    let bytes = 0;
    for (const [key, value] of Object.entries(out)) bytes += utf8Bytes(key) + utf8Bytes(value);
    if (bytes >= GCP_MAX_ANNOTATIONS_BYTES) {
      const resource = secretPath(name);
      throw new KeyshiftError(
        ErrorCodes.VALUE_TOO_LARGE,
        `Secret Manager ${resource}: the annotations (with ${GCP_EXTRA_ANNOTATION}) would take ${bytes} bytes; Secret Manager requires less than ${GCP_MAX_ANNOTATIONS_BYTES} bytes of annotation keys and values`,
        { entry: name, details: { resource, bytes, maxBytes: GCP_MAX_ANNOTATIONS_BYTES - 1 } },
      );
    }
    return out;
  }

  function checkAliases(name: string, aliases: Record<string, number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [alias, version] of Object.entries(aliases)) {
      if (!ALIAS.test(alias) || alias === 'latest' || alias === 'NEW' || !Number.isSafeInteger(version) || version < 1) {
        throw invalid(`secret ${name}: alias ${alias.slice(0, 63)} is not a valid Secret Manager version alias`, name);
      }
      out[alias] = version;
    }
    if (Object.keys(out).length > 50) throw invalid(`secret ${name}: Secret Manager allows at most 50 version aliases`, name);
    return out;
  }

  async function getSecret(name: string): Promise<SecretInfo> {
    const resource = secretPath(name);
    const [secret] = await run(name, 'GetSecret', resource, (sm) => sm.getSecret({ name: resource }, call));
    return infoOf(name, secret, await latestOf(name));
  }

  async function createSecret(name: string, meta: SecretMeta = {}): Promise<SecretInfo> {
    const resource = secretPath(name);
    const secret = {
      replication: { automatic: {} },
      labels: { ...meta.labels },
      annotations: annotationsOf(name, meta.annotations ?? {}, meta.extra ?? {}),
    };
    const [created] = await run(name, 'CreateSecret', resource, (sm) =>
      sm.createSecret({ parent: `projects/${project}`, secretId: name, secret }, call),
    );
    return infoOf(name, created, { latest: undefined, versionCount: 0 });
  }

  async function updateSecret(name: string, patch: SecretPatch, conditions: { ifEtag?: string } = {}): Promise<SecretInfo> {
    // Without an etag of the caller's, a merge of the annotations is conditional on the
    // etag it read; losing that race to another writer is retried, not reported.
    for (let attempt = 1; ; attempt++) {
      try {
        return await updateOnce(name, patch, conditions.ifEtag);
      } catch (error) {
        const merged = conditions.ifEtag === undefined && error instanceof KeyshiftError && error.code === ErrorCodes.CONFLICT;
        if (!merged || attempt >= 3) throw error;
      }
    }
  }

  async function updateOnce(name: string, patch: SecretPatch, ifEtag: string | undefined): Promise<SecretInfo> {
    const resource = secretPath(name);
    const paths: string[] = [];
    const secret: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; versionAliases?: Record<string, number>; etag?: string } = {
      name: resource,
    };
    if (patch.labels !== undefined) {
      paths.push('labels');
      secret.labels = { ...patch.labels };
    }
    if (patch.aliases !== undefined) {
      paths.push('version_aliases');
      secret.versionAliases = checkAliases(name, patch.aliases);
    }
    let etag = ifEtag;
    if (patch.annotations !== undefined || patch.extra !== undefined) {
      paths.push('annotations');
      let annotations = patch.annotations;
      let extra = patch.extra;
      if (annotations === undefined || extra === undefined) {
        // One annotation map holds both: the half not given is kept as it is now, and
        // the write is conditional on the etag read (or given), so nothing is lost.
        const current = await getSecret(name);
        if (etag !== undefined && current.etag !== etag) {
          throw new KeyshiftError(ErrorCodes.CONFLICT, `Secret Manager UpdateSecret for ${resource}: the secret was changed since the etag given`, {
            entry: name,
            details: { source: 'gcp-secret-manager', resource, method: 'UpdateSecret' },
          });
        }
        etag = current.etag;
        annotations ??= current.annotations;
        extra ??= current.extra;
      }
      secret.annotations = annotationsOf(name, annotations, extra);
    }
    if (paths.length === 0) return getSecret(name);
    if (etag !== undefined) secret.etag = etag;
    const [updated] = await run(name, 'UpdateSecret', resource, (sm) => sm.updateSecret({ secret, updateMask: { paths } }, call), etag !== undefined);
    return infoOf(name, updated, await latestOf(name));
  }

  async function put(name: string, value: Uint8Array | string, conditions: { ifLatest?: number } = {}): Promise<VersionInfo> {
    const parent = secretPath(name);
    const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (data.byteLength > MAX_PAYLOAD_BYTES) {
      throw new KeyshiftError(
        ErrorCodes.VALUE_TOO_LARGE,
        `Secret Manager ${parent}: a value of ${data.byteLength} bytes is over the ${MAX_PAYLOAD_BYTES}-byte limit`,
        { entry: name, details: { resource: parent, bytes: data.byteLength, maxBytes: MAX_PAYLOAD_BYTES } },
      );
    }
    if (conditions.ifLatest !== undefined) {
      const latest = (await latestOf(name)).latest ?? 0;
      if (latest !== conditions.ifLatest) {
        throw new KeyshiftError(
          ErrorCodes.CONFLICT,
          `Secret Manager ${parent}: conditional put expected latest version ${conditions.ifLatest}, found ${latest}`,
          { entry: name, details: { resource: parent, expected: conditions.ifLatest, latest } },
        );
      }
    }
    const payload = { data, dataCrc32c: crc32c(data) };
    const [version] = await run(name, 'AddSecretVersion', parent, (sm) => sm.addSecretVersion({ parent, payload }, call));
    return { name, version: versionNumberOf(version.name), state: stateOf(version.state), createTime: isoOf(version.createTime) };
  }

  async function access(name: string, version: string | number = 'latest', limits: { maxBytes?: number } = {}): Promise<AccessResult> {
    const selector = String(version);
    if (!VERSION_ID.test(selector)) throw invalid(`secret ${name}: invalid version ${selector.slice(0, 20)}`, name);
    const resource = `${secretPath(name)}/versions/${selector}`;
    const [response] = await run(name, 'AccessSecretVersion', resource, (sm) => sm.accessSecretVersion({ name: resource }, call));
    const number = versionNumberOf(response.name);
    const raw = response.payload?.data ?? new Uint8Array(0);
    const data = typeof raw === 'string' ? Buffer.from(raw, 'base64') : raw;
    const value = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const expected = response.payload?.dataCrc32c;
    if (expected !== undefined && expected !== null && Number(String(expected)) !== crc32c(value)) {
      value.fill(0);
      throw new KeyshiftError(ErrorCodes.CHECKSUM_MISMATCH, `Secret Manager ${resource}: the payload of version ${number} failed its CRC32C check`, {
        entry: name,
        details: { source: 'gcp-secret-manager', resource, version: number },
      });
    }
    if (limits.maxBytes !== undefined && value.byteLength > limits.maxBytes) {
      const size = value.byteLength;
      value.fill(0);
      throw new KeyshiftError(ErrorCodes.VALUE_TOO_LARGE, `Secret Manager ${resource}: version ${number} is ${size} bytes, over the ${limits.maxBytes}-byte limit`, {
        entry: name,
        details: { resource, version: number, bytes: size, maxBytes: limits.maxBytes },
      });
    }
    return { name, version: number, value };
  }

  async function versions(name: string): Promise<VersionInfo[]> {
    const parent = secretPath(name);
    const [listed] = await run(name, 'ListSecretVersions', parent, (sm) => sm.listSecretVersions({ parent }, call));
    return listed
      .map((v: Version) => ({ name, version: versionNumberOf(v.name), state: stateOf(v.state), createTime: isoOf(v.createTime) }))
      .sort((a, b) => a.version - b.version);
  }

  /** DestroySecretVersion, DisableSecretVersion or EnableSecretVersion of one version. */
  async function setState(name: string, version: number, method: 'Destroy' | 'Disable' | 'Enable'): Promise<VersionInfo> {
    if (!Number.isSafeInteger(version) || version < 1) throw invalid(`secret ${name}: invalid version number`, name);
    const resource = `${secretPath(name)}/versions/${version}`;
    const [changed] = await run(name, `${method}SecretVersion`, resource, (sm) =>
      method === 'Destroy'
        ? sm.destroySecretVersion({ name: resource }, call)
        : method === 'Disable'
          ? sm.disableSecretVersion({ name: resource }, call)
          : sm.enableSecretVersion({ name: resource }, call),
    );
    return { name, version, state: stateOf(changed.state), createTime: isoOf(changed.createTime) };
  }

  const destroyVersion = (name: string, version: number): Promise<VersionInfo> => setState(name, version, 'Destroy');

  /** ListSecrets, then each secret's metadata (as getSecret): for the CLI's `list`, not a hot path. */
  async function list(): Promise<SecretInfo[]> {
    const parent = `projects/${project}`;
    const [secrets] = await run('', 'ListSecrets', parent, (sm) => sm.listSecrets({ parent }, call));
    const infos: SecretInfo[] = [];
    for (const secret of secrets) {
      const name = String(secret.name ?? '').split('/').pop() ?? '';
      if (SECRET_ID.test(name)) infos.push(infoOf(name, secret, await latestOf(name)));
    }
    return infos.sort((a, b) => a.name.localeCompare(b.name));
  }

  return {
    kind: 'gcp-secret-manager',
    getSecret,
    createSecret,
    updateSecret,
    put,
    access,
    versions,
    destroyVersion,
    disableVersion: (name, version) => setState(name, version, 'Disable'),
    enableVersion: (name, version) => setState(name, version, 'Enable'),
    list,
    async close() {
      if (closed) return;
      closed = true;
      const opened = await client?.catch(() => undefined);
      if (opened && !options.client) await opened.close();
    },
  };
}
