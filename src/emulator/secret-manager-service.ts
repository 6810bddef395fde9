/**
 * The Secret Manager v1 methods over the local store, as plain async functions
 * (request object in, response object out, StatusError thrown). start-emulator.ts
 * puts them behind @grpc/grpc-js with fault injection in front.
 */
import { KeyshiftError } from '../errors.ts';
import type { LocalStore, SecretInfo, VersionInfo } from '../local-store/index.ts';
import type { AccessCache } from './_access-cache.ts';
import { crc32c } from '../gcp/crc32c.ts';
import { ALIAS } from '../gcp/resource-names.ts';
import {
  checkSecretId,
  parseParent,
  parseSecretName,
  parseVersionName,
  type SecretName,
  secretPath,
  versionPath,
} from './_resource-names.ts';
import { paginate } from './_paginate.ts';
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
  /** Called after every change, before the call is answered (for push notifications). */
  onEvent?: (event: SecretManagerEvent) => void;
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
] as const;
export type ServiceMethod = (typeof SERVICE_METHODS)[number];
export type ServiceHandlers = Record<ServiceMethod, (request: Record<string, unknown>) => Promise<unknown>>;

/** Secret Manager's payload limit. */
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Annotation keys, as the real API checks them (resources.proto: 1-63 characters, alphanumeric at both ends). */
const ANNOTATION_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;
/** The total size of annotation keys and values must be less than 16 KiB (resources.proto). */
const MAX_ANNOTATIONS_BYTES = 16 * 1024;

/** A secret's annotations, refused as the real service refuses them. */
function checkAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (!ANNOTATION_KEY.test(key)) throw invalidArgument(`Invalid annotation key [${key.slice(0, 70)}].`);
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (bytes >= MAX_ANNOTATIONS_BYTES) throw invalidArgument('The total size of annotation keys and values must be less than 16KiB.');
  return { ...annotations };
}
export function createSecretManagerService(options: SecretManagerServiceOptions): ServiceHandlers {
  const { store } = options;
  const emit = (event: SecretManagerEvent): void => options.onEvent?.(event);

  const checkProject = <T extends { project: string }>(name: T): T => {
    if (options.project !== undefined && name.project !== options.project) {
      throw new StatusError('PERMISSION_DENIED', `Permission denied on project [${name.project}].`);
    }
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
  async function resolve(name: unknown): Promise<{ secret: SecretName; info: VersionInfo }> {
    const parsed = checkProject(parseVersionName(name));
    const path = versionPath(parsed, parsed.version);
    let versions: VersionInfo[];
    try {
      versions = await store.versions(parsed.secret);
    } catch (error) {
      throw fromStoreError(error, secretPath(parsed));
    }
    let number = Number(parsed.version);
    if (parsed.version === 'latest') {
      if (versions.length === 0) throw secretNotFound(secretPath(parsed));
      number = Math.max(...versions.map((v) => v.version));
    } else if (!/^[0-9]+$/.test(parsed.version)) {
      const alias = (await getSecret(parsed)).aliases[parsed.version];
      if (alias === undefined) throw versionNotFound(path);
      number = alias;
    }
    const info = versions.find((v) => v.version === number);
    if (info === undefined) throw versionNotFound(path);
    return { secret: parsed, info };
  }

  async function changeState(
    request: Record<string, unknown>,
    target: 'enabled' | 'disabled' | 'destroyed',
    type: VersionEventType,
  ): Promise<VersionMessage> {
    const { secret, info } = await resolve(request.name);
    const path = versionPath(secret, info.version);
    if (info.state === 'destroyed') throw versionInState(path, 'destroyed');
    const etag = typeof request.etag === 'string' ? request.etag : '';
    if (etag !== '' && etag !== versionMessage(secret, info).etag) {
      throw new StatusError('ABORTED', `The etag of [${path}] does not match.`);
    }
    let next: VersionInfo;
    try {
      if (target === 'enabled') next = await store.enableVersion(secret.secret, info.version);
      else if (target === 'disabled') next = await store.disableVersion(secret.secret, info.version);
      else next = await store.destroyVersion(secret.secret, info.version);
    } catch (error) {
      throw fromStoreError(error, path);
    }
    const resource = versionMessage(secret, next);
    if (next.state !== info.state) emit({ type, secret, version: next.version, resource });
    return resource;
  }

  return {
    async CreateSecret(request) {
      const { project } = checkProject(parseParent(request.parent));
      const name = { project, secret: checkSecretId(request.secretId) };
      const given = (request.secret ?? {}) as Partial<SecretMessage>;
      if (Object.keys(given.versionAliases ?? {}).length > 0) {
        throw invalidArgument('A new secret has no versions to alias.');
      }
      let info: SecretInfo;
      try {
        info = await store.createSecret(name.secret, {
          labels: { ...given.labels },
          annotations: checkAnnotations(given.annotations),
          extra: { topics: (given.topics ?? []).map((t) => t.name) },
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
      const given = (request.secret ?? {}) as Partial<SecretMessage>;
      const name = secretName(given.name);
      const paths = ((request.updateMask as { paths?: string[] } | undefined)?.paths ?? []).map((p) =>
        p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      );
      if (paths.length === 0) throw invalidArgument('update_mask must name at least one field.');
      const current = await getSecret(name);
      const patch: Parameters<EmulatorStore['updateSecret']>[1] = {};
      for (const path of paths) {
        if (path === 'labels') patch.labels = { ...given.labels };
        else if (path === 'annotations') patch.annotations = checkAnnotations(given.annotations);
        else if (path === 'topics') patch.extra = { ...current.extra, topics: (given.topics ?? []).map((t) => t.name) };
        else if (path === 'version_aliases') {
          const aliases: Record<string, number> = {};
          for (const [alias, version] of Object.entries(given.versionAliases ?? {})) {
            const n = Number(version);
            if (!ALIAS.test(alias) || !Number.isSafeInteger(n) || n < 1 || n > (current.latest ?? 0)) {
              throw invalidArgument(`Invalid version alias [${alias.slice(0, 70)}].`);
            }
            aliases[alias] = n;
          }
          patch.aliases = aliases;
        } else throw invalidArgument(`The emulator cannot update field [${path.slice(0, 70)}].`);
      }
      let info: SecretInfo;
      try {
        const etag = typeof given.etag === 'string' && given.etag !== '' ? { ifEtag: given.etag } : undefined;
        info = await store.updateSecret(name.secret, patch, etag);
      } catch (error) {
        throw fromStoreError(error, secretPath(name));
      }
      const resource = secretMessage(name.project, info);
      emit({ type: 'SECRET_UPDATE', secret: name, resource });
      return resource;
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
      if (typeof request.etag === 'string' && request.etag !== '' && request.etag !== info.etag) {
        throw new StatusError('ABORTED', `The etag of [${secretPath(name)}] does not match.`);
      }
      try {
        await store.deleteSecret(name.secret);
      } catch (error) {
        throw fromStoreError(error, secretPath(name));
      }
      emit({ type: 'SECRET_DELETE', secret: name, resource: secretMessage(name.project, info) });
      return {};
    },

    async AddSecretVersion(request) {
      const name = secretName(request.parent);
      const payload = (request.payload ?? {}) as { data?: Uint8Array; dataCrc32c?: string | number | null };
      const data = payload.data ?? new Uint8Array(0);
      if (data.length > MAX_PAYLOAD_BYTES) throw invalidArgument('Secret payload data must be at most 65536 bytes.');
      const checksum = payload.dataCrc32c;
      const hasChecksum = checksum !== undefined && checksum !== null;
      if (hasChecksum && Number(checksum) !== crc32c(data)) {
        throw invalidArgument('Checksum mismatch: the data_crc32c does not match the payload data.');
      }
      await getSecret(name); // AddSecretVersion never creates the secret
      let info: VersionInfo;
      try {
        info = await store.put(name.secret, data);
      } catch (error) {
        throw fromStoreError(error, secretPath(name));
      }
      const resource = versionMessage(name, info, hasChecksum);
      emit({ type: 'SECRET_VERSION_ADD', secret: name, version: info.version, resource });
      return resource;
    },

    async AccessSecretVersion(request) {
      // The hot path: one store call at most (the store resolves latest and aliases itself).
      const name = checkProject(parseVersionName(request.name));
      const selector = /^[0-9]+$/.test(name.version) ? Number(name.version) : name.version;
      const { cache } = options;
      let result = cache?.get(name.secret, name.version);
      if (result === undefined) {
        const generation = cache?.generation(name.secret) ?? 0;
        try {
          result = await store.access(name.secret, selector);
        } catch (error) {
          const details = error instanceof KeyshiftError ? error.details : {};
          if (typeof details.version === 'number' && typeof details.state === 'string') {
            throw versionInState(versionPath(name, details.version), details.state);
          }
          throw fromStoreError(error, name.version === 'latest' ? secretPath(name) : versionPath(name, name.version));
        }
        cache?.set(name.secret, name.version, generation, result);
      }
      const data = result.value;
      return { name: versionPath(name, result.version), payload: { data, dataCrc32c: String(crc32c(data)) } };
    },

    async GetSecretVersion(request) {
      const { secret, info } = await resolve(request.name);
      return versionMessage(secret, info);
    },

    async ListSecretVersions(request) {
      const name = secretName(request.parent);
      let versions: VersionInfo[];
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
        versions: page.items.map((info) => versionMessage(name, info)),
        nextPageToken: page.nextPageToken,
        totalSize: page.totalSize,
      };
    },

    EnableSecretVersion: (request) => changeState(request, 'enabled', 'SECRET_VERSION_ENABLE'),
    DisableSecretVersion: (request) => changeState(request, 'disabled', 'SECRET_VERSION_DISABLE'),
    DestroySecretVersion: (request) => changeState(request, 'destroyed', 'SECRET_VERSION_DESTROY'),
  };
}
