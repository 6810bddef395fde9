/**
 * The Secret Manager v1 methods over the local store, as plain async functions
 * (request object in, response object out, StatusError thrown). start-emulator.ts
 * puts them behind @grpc/grpc-js with fault injection in front.
 */
import { KeyshiftError } from '../errors.ts';
import type { AccessResult, LocalStore, SecretInfo, VersionInfo } from '../local-store/index.ts';
import type { AccessCache } from './_access-cache.ts';
import { crc32c } from '../gcp/crc32c.ts';
import {
  checkSecretId,
  parseParent,
  parseSecretName,
  parseVersionName,
  type SecretName,
  secretPath,
  versionPath,
} from './_resource-names.ts';
import { createIamHandlers } from './_iam.ts';
import { paginate } from './_paginate.ts';
import { ProjectScope } from './_project-scope.ts';
import {
  checksummedOf,
  newSecretEtag,
  parseExpiration,
  parseReplication,
  secretEtag,
} from './_secret-extra.ts';
import { checkAliases, checkAnnotations, checkLabels } from './_validation.ts';
import { type SecretMessage, secretMessage, type VersionMessage, versionMessage } from './_resources.ts';
import type { SecretManagerEvent, VersionEventType } from './push-publisher.ts';
import {
  fromStoreError,
  invalidArgument,
  StatusError,
  secretNotFound,
  versionInState,
  versionNotFound,
} from './_status.ts';

/** The part of the local store the emulator uses. */
export type EmulatorStore = Pick<
  LocalStore,
  | 'put'
  | 'access'
  | 'versions'
  | 'list'
  | 'getSecret'
  | 'createSecret'
  | 'updateSecret'
  | 'deleteSecret'
  | 'enableVersion'
  | 'disableVersion'
  | 'destroyVersion'
>;

export interface SecretManagerServiceOptions {
  store: EmulatorStore;
  /** When set, calls naming another project get PERMISSION_DENIED. Default: any project. */
  project?: string;
  /**
   * The project the store holds (see _project-scope.ts). Default: one pinned to `project`,
   * or claimed by the first call when `project` is unset.
   */
  scope?: ProjectScope;
  /** Called after every change, before the call is answered (for push notifications). */
  onEvent?: (event: SecretManagerEvent) => void;
  /** Called before a store write that changes no API field (the emulator's own bookkeeping). */
  onBookkeeping?: (secret: string) => void;
  /** Serves AccessSecretVersion from memory; whoever writes must invalidate it. Default: none. */
  cache?: AccessCache;
}

/** The methods the emulator implements; the others answer UNIMPLEMENTED. */
export const SERVICE_METHODS = [
  'CreateSecret',
  'GetSecret',
  'UpdateSecret',
  'ListSecrets',
  'DeleteSecret',
  'AddSecretVersion',
  'AccessSecretVersion',
  'GetSecretVersion',
  'ListSecretVersions',
  'EnableSecretVersion',
  'DisableSecretVersion',
  'DestroySecretVersion',
  'GetIamPolicy',
  'SetIamPolicy',
  'TestIamPermissions',
] as const;
export type ServiceMethod = (typeof SERVICE_METHODS)[number];
export type ServiceHandlers = Record<ServiceMethod, (request: Record<string, unknown>) => Promise<unknown>>;

/** Secret Manager's payload limit. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** How often UpdateSecret re-reads when another writer changed the store under it. */
const UPDATE_ATTEMPTS = 5;

const etagMismatch = (resource: string): StatusError =>
  new StatusError('FAILED_PRECONDITION', `The etag of [${resource}] does not match; read it again and retry.`);

export function createSecretManagerService(options: SecretManagerServiceOptions): ServiceHandlers {
  const { store } = options;
  const emit = (event: SecretManagerEvent): void => options.onEvent?.(event);

  const scope = options.scope ?? new ProjectScope(options.project, options.project ?? '');
  const checkProject = <T extends { project: string }>(name: T): T => {
    scope.check(name.project);
    return name;
  };
  const secretName = (name: unknown): SecretName => checkProject(parseSecretName(name));

  async function getSecret(name: SecretName): Promise<SecretInfo> {
    try {
      return await store.getSecret(name.secret);
    } catch (error) {
      throw fromStoreError(error, secretPath(name));
    }
  }

  /** Resolves `latest`, an alias or a number to the version record. */
  async function resolve(name: unknown): Promise<{ secret: SecretName; info: VersionInfo; owner: SecretInfo }> {
    const parsed = checkProject(parseVersionName(name));
    const path = versionPath(parsed, parsed.version);
    let versions: VersionInfo[];
    try {
      versions = await store.versions(parsed.secret);
    } catch (error) {
      throw fromStoreError(error, secretPath(parsed));
    }
    const owner = await getSecret(parsed);
    let number = Number(parsed.version);
    if (parsed.version === 'latest') {
      if (versions.length === 0) throw secretNotFound(secretPath(parsed));
      number = Math.max(...versions.map((v) => v.version));
    } else if (!/^[0-9]+$/.test(parsed.version)) {
      const alias = owner.aliases[parsed.version];
      if (alias === undefined) throw versionNotFound(path);
      number = alias;
    }
    const info = versions.find((v) => v.version === number);
    if (info === undefined) throw versionNotFound(path);
    return { secret: parsed, info, owner };
  }

  async function changeState(
    request: Record<string, unknown>,
    target: 'enabled' | 'disabled' | 'destroyed',
    type: VersionEventType,
  ): Promise<VersionMessage> {
    const { secret, info, owner } = await resolve(request.name);
    const path = versionPath(secret, info.version);
    if (info.state === 'destroyed') throw versionInState(path, 'destroyed');
    const etag = typeof request.etag === 'string' ? request.etag : '';
    if (etag !== '' && etag !== versionMessage(secret, info).etag) throw etagMismatch(path);
    let next: VersionInfo;
    try {
      if (target === 'enabled') next = await store.enableVersion(secret.secret, info.version);
      else if (target === 'disabled') next = await store.disableVersion(secret.secret, info.version);
      else next = await store.destroyVersion(secret.secret, info.version);
    } catch (error) {
      throw fromStoreError(error, path);
    }
    const resource = versionMessage(secret, next, owner);
    if (next.state !== info.state) emit({ type, secret, version: next.version, resource });
    return resource;
  }

  const iam = createIamHandlers(async (resource) => {
    const name = secretName(resource);
    await getSecret(name);
    return secretPath(name);
  });

  return {
    async CreateSecret(request) {
      const { project } = checkProject(parseParent(request.parent));
      const name = { project, secret: checkSecretId(request.secretId) };
      const given = (request.secret ?? {}) as Partial<SecretMessage> & Record<string, unknown>;
      if (Object.keys(given.versionAliases ?? {}).length > 0) {
        throw invalidArgument('A new secret has no versions to alias.');
      }
      if (given.versionDestroyTtl !== undefined && given.versionDestroyTtl !== null) {
        throw invalidArgument('The keyshift emulator does not implement version_destroy_ttl (delayed destruction).');
      }
      const expireTime = parseExpiration(given);
      let info: SecretInfo;
      try {
        info = await store.createSecret(name.secret, {
          labels: checkLabels(given.labels),
          annotations: checkAnnotations(given.annotations),
          extra: {
            topics: (given.topics ?? []).map((t) => t.name),
            etag: newSecretEtag(),
            replication: parseReplication(given.replication),
            ...(expireTime === undefined ? {} : { expireTime }),
          },
        });
      } catch (error) {
        if ((error as { code?: unknown }).code === 'KS_ERR_CONFLICT') {
          throw new StatusError('ALREADY_EXISTS', `Secret [${secretPath(name)}] already exists.`);
        }
        throw fromStoreError(error, secretPath(name));
      }
      const resource = secretMessage(project, info);
      emit({ type: 'SECRET_CREATE', secret: name, resource });
      return resource;
    },

    async GetSecret(request) {
      const name = secretName(request.name);
      return secretMessage(name.project, await getSecret(name));
    },

    async UpdateSecret(request) {
      const given = (request.secret ?? {}) as Partial<SecretMessage> & Record<string, unknown>;
      const name = secretName(given.name);
      const paths = ((request.updateMask as { paths?: string[] } | undefined)?.paths ?? []).map((p) =>
        p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      );
      if (paths.length === 0) throw invalidArgument('update_mask must name at least one field.');
      const wanted = typeof given.etag === 'string' && given.etag !== '' ? given.etag : undefined;
      for (let attempt = 1; ; attempt++) {
        const current = await getSecret(name);
        if (wanted !== undefined && wanted !== secretEtag(current)) throw etagMismatch(secretPath(name));
        const patch: Parameters<EmulatorStore['updateSecret']>[1] = {};
        // Every update, a no-op one too, gives the secret a new etag.
        const extra: Record<string, unknown> = { ...current.extra, etag: newSecretEtag() };
        for (const path of paths) {
          if (path === 'labels') patch.labels = checkLabels(given.labels);
          else if (path === 'annotations') patch.annotations = checkAnnotations(given.annotations);
          else if (path === 'topics') extra.topics = (given.topics ?? []).map((t) => t.name);
          else if (path === 'version_aliases') patch.aliases = checkAliases(given.versionAliases, current.latest ?? 0);
          else if (path === 'expire_time' || path === 'ttl') {
            const expireTime = parseExpiration(given);
            if (expireTime === undefined) delete extra.expireTime;
            else extra.expireTime = expireTime;
          } else if (path === 'replication') throw invalidArgument('The replication policy of a secret cannot be changed.');
          else throw invalidArgument(`The emulator cannot update field [${path.slice(0, 70)}].`);
        }
        patch.extra = extra;
        try {
          // Conditional on the store record read above: a concurrent write is retried, never lost.
          const info = await store.updateSecret(name.secret, patch, { ifEtag: current.etag });
          const resource = secretMessage(name.project, info);
          emit({ type: 'SECRET_UPDATE', secret: name, resource });
          return resource;
        } catch (error) {
          if ((error as { code?: unknown }).code !== 'KS_ERR_CONFLICT' || attempt >= UPDATE_ATTEMPTS) {
            throw fromStoreError(error, secretPath(name));
          }
        }
      }
    },

    async ListSecrets(request) {
      const { project } = checkProject(parseParent(request.parent));
      const all = (await store.list()).sort((a, b) => a.name.localeCompare(b.name));
      const page = paginate(all, request);
      return {
        secrets: page.items.map((info) => secretMessage(project, info)),
        nextPageToken: page.nextPageToken,
        totalSize: page.totalSize,
      };
    },

    async DeleteSecret(request) {
      const name = secretName(request.name);
      const info = await getSecret(name);
      if (typeof request.etag === 'string' && request.etag !== '' && request.etag !== secretEtag(info)) {
        throw etagMismatch(secretPath(name));
      }
      try {
        await store.deleteSecret(name.secret);
      } catch (error) {
        throw fromStoreError(error, secretPath(name));
      }
      iam.forget(secretPath(name));
      emit({ type: 'SECRET_DELETE', secret: name, resource: secretMessage(name.project, info) });
      return {};
    },

    async AddSecretVersion(request) {
      const name = secretName(request.parent);
      if (request.payload === undefined || request.payload === null) throw invalidArgument('payload must be set.');
      const payload = request.payload as { data?: Uint8Array; dataCrc32c?: string | number | null };
      const data = payload.data ?? new Uint8Array(0);
      if (data.length > MAX_PAYLOAD_BYTES) throw invalidArgument('Secret payload data must be at most 65536 bytes.');
      const checksum = payload.dataCrc32c;
      const hasChecksum = checksum !== undefined && checksum !== null;
      if (hasChecksum && Number(checksum) !== crc32c(data)) {
        throw invalidArgument('Checksum mismatch: the data_crc32c does not match the payload data.');
      }
      await getSecret(name); // AddSecretVersion never creates the secret
      let info: VersionInfo;
      let owner: SecretInfo;
      try {
        info = await store.put(name.secret, data);
        owner = await store.getSecret(name.secret);
        if (hasChecksum) {
          // Kept beside the version (the store's etag changes, the secret's does not).
          const checksummed = [...checksummedOf(owner), info.version];
          options.onBookkeeping?.(name.secret);
          owner = await store.updateSecret(name.secret, { extra: { ...owner.extra, checksummed } });
        }
      } catch (error) {
        throw fromStoreError(error, secretPath(name));
      }
      const resource = versionMessage(name, info, owner);
      emit({ type: 'SECRET_VERSION_ADD', secret: name, version: info.version, resource });
      return resource;
    },

    async AccessSecretVersion(request) {
      // The hot path: one store call at most (the store resolves latest and aliases itself).
      const name = checkProject(parseVersionName(request.name));
      const selector = /^[0-9]+$/.test(name.version) ? Number(name.version) : name.version;
      const { cache } = options;
      let result: AccessResult;
      try {
        const read = () => store.access(name.secret, selector);
        result = cache === undefined ? await read() : await cache.read(name.secret, name.version, read);
      } catch (error) {
        const details = error instanceof KeyshiftError ? error.details : {};
        if (typeof details.version === 'number' && typeof details.state === 'string') {
          throw versionInState(versionPath(name, details.version), details.state);
        }
        throw fromStoreError(error, name.version === 'latest' ? secretPath(name) : versionPath(name, name.version));
      }
      const data = result.value;
      return { name: versionPath(name, result.version), payload: { data, dataCrc32c: String(crc32c(data)) } };
    },

    async GetSecretVersion(request) {
      const { secret, info, owner } = await resolve(request.name);
      return versionMessage(secret, info, owner);
    },

    async ListSecretVersions(request) {
      const name = secretName(request.parent);
      let versions: VersionInfo[];
      const owner = await getSecret(name);
      try {
        versions = await store.versions(name.secret);
      } catch (error) {
        throw fromStoreError(error, secretPath(name));
      }
      // The real service lists the newest version first.
      const page = paginate(
        versions.sort((a, b) => b.version - a.version),
        request,
      );
      return {
        versions: page.items.map((info) => versionMessage(name, info, owner)),
        nextPageToken: page.nextPageToken,
        totalSize: page.totalSize,
      };
    },

    EnableSecretVersion: (request) => changeState(request, 'enabled', 'SECRET_VERSION_ENABLE'),
    DisableSecretVersion: (request) => changeState(request, 'disabled', 'SECRET_VERSION_DISABLE'),
    DestroySecretVersion: (request) => changeState(request, 'destroyed', 'SECRET_VERSION_DESTROY'),

    GetIamPolicy: (request) => iam.GetIamPolicy(request),
    SetIamPolicy: (request) => iam.SetIamPolicy(request),
    TestIamPermissions: (request) => iam.TestIamPermissions(request),
  };
}
