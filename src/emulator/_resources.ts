/**
 * Store records -> Secret Manager resources, in two shapes: the message objects
 * @grpc/proto-loader serialises (camelCase fields, Timestamp as {seconds, nanos}),
 * and the proto3 JSON mapping that Pub/Sub notifications carry in `data`.
 */
import { createHash } from 'node:crypto';
import type { SecretInfo, VersionInfo } from '../local-store/index.ts';
import { type SecretName, secretPath, versionPath } from './_resource-names.ts';
import { checksummedOf, expireTimeOf, type Replication, replicationOf, replicationStatusOf, secretEtag, type Timestamp } from './_secret-extra.ts';

export type { Timestamp } from './_secret-extra.ts';

export interface SecretMessage {
  name: string;
  replication: Replication;
  createTime: Timestamp;
  expireTime?: Timestamp;
  labels: Record<string, string>;
  topics: { name: string }[];
  etag: string;
  versionAliases: Record<string, string>;
  annotations: Record<string, string>;
}

export type VersionStateName = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface VersionMessage {
  name: string;
  createTime: Timestamp;
  state: VersionStateName;
  destroyTime?: Timestamp;
  replicationStatus: Record<string, unknown>;
  etag: string;
  clientSpecifiedPayloadChecksum: boolean;
}

export function timestamp(iso: string): Timestamp {
  const ms = Date.parse(iso);
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/** Topic names kept in the store's opaque `extra`. */
export function topicsOf(info: SecretInfo): string[] {
  const topics = info.extra.topics;
  return Array.isArray(topics) ? topics.filter((t): t is string => typeof t === 'string') : [];
}

export function secretMessage(project: string, info: SecretInfo): SecretMessage {
  const versionAliases: Record<string, string> = {};
  for (const [alias, version] of Object.entries(info.aliases)) versionAliases[alias] = String(version);
  const expireTime = expireTimeOf(info);
  return {
    name: secretPath({ project, secret: info.name }),
    replication: replicationOf(info),
    createTime: timestamp(info.createTime),
    ...(expireTime === undefined ? {} : { expireTime: timestamp(expireTime) }),
    labels: { ...info.labels },
    topics: topicsOf(info).map((name) => ({ name })),
    etag: secretEtag(info),
    versionAliases,
    annotations: { ...info.annotations },
  };
}

/** Versions have no etag in the store: derive a stable one from what can change. */
function versionEtag(info: VersionInfo): string {
  const h = createHash('sha256').update(`${info.name}\0${info.version}\0${info.state}\0${info.createTime}`);
  return `"${h.digest('hex').slice(0, 14)}"`;
}

/**
 * A version as the service answers it. `owner` (the secret's record) gives the replication
 * status and whether the version was added with a client checksum.
 */
export function versionMessage(secret: SecretName, info: VersionInfo, owner?: SecretInfo): VersionMessage {
  return {
    name: versionPath(secret, info.version),
    createTime: timestamp(info.createTime),
    // Secret Manager has no damaged state: a damaged version is shown disabled (reading it fails either way).
    state: (info.state === 'damaged' ? 'DISABLED' : info.state.toUpperCase()) as VersionStateName,
    ...(info.destroyTime === undefined ? {} : { destroyTime: timestamp(info.destroyTime) }),
    replicationStatus: replicationStatusOf(owner),
    etag: versionEtag(info),
    clientSpecifiedPayloadChecksum: owner !== undefined && checksummedOf(owner).includes(info.version),
  };
}

const iso = (t: Timestamp): string => new Date(Number(t.seconds) * 1000 + t.nanos / 1_000_000).toISOString();

/** A message in the proto3 JSON mapping: Timestamps as RFC 3339, default values left out. */
export function toProtoJson(message: SecretMessage | VersionMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) {
    if (value === false || value === '') continue;
    if (key === 'createTime' || key === 'destroyTime' || key === 'expireTime') {
      if ((value as Timestamp).seconds !== '0') out[key] = iso(value as Timestamp);
    }
    else if (Array.isArray(value)) {
      if (value.length > 0) out[key] = value;
    } else if (typeof value === 'object' && value !== null && key !== 'replication' && key !== 'replicationStatus') {
      if (Object.keys(value).length > 0) out[key] = value;
    } else out[key] = value;
  }
  return out;
}
