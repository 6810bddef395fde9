/**
 * What the emulator keeps about a secret in the store's opaque `extra`, beside topics
 * and the rotation schedule: the secret's etag (a version change never changes it, as
 * Google documents, while the store's own etag changes on every write), the replication
 * and expiration given at create, and which versions were added with a client checksum.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SecretInfo } from '../local-store/index.ts';
import { invalidArgument } from './_status.ts';

/** A protobuf Timestamp as @grpc/proto-loader serialises it. */
export interface Timestamp {
  seconds: string;
  nanos: number;
}

export type Replication =
  | { automatic: { customerManagedEncryption?: { kmsKeyName: string } } }
  | { userManaged: { replicas: { location: string; customerManagedEncryption?: { kmsKeyName: string } }[] } };

/** A new quoted etag, as the service sends them. */
export const newSecretEtag = (): string => `"${randomBytes(8).toString('hex')}"`;

/**
 * The secret's etag: the one the emulator set at create or last update, or for a
 * secret written by another tool (`keyshift put`) one derived from what never changes.
 */
export function secretEtag(info: SecretInfo): string {
  const kept = info.extra.etag;
  if (typeof kept === 'string' && kept !== '') return kept;
  return `"${createHash('sha256').update(`${info.name}\0${info.createTime}`).digest('hex').slice(0, 16)}"`;
}

export function replicationOf(info: SecretInfo): Replication {
  const kept = info.extra.replication as Replication | undefined;
  return kept !== undefined && typeof kept === 'object' ? kept : { automatic: {} };
}

/** A version's replication status mirrors the secret's policy. */
export function replicationStatusOf(info: SecretInfo | undefined): Record<string, unknown> {
  const replication = info === undefined ? ({ automatic: {} } as Replication) : replicationOf(info);
  if ('userManaged' in replication) {
    return { userManaged: { replicas: replication.userManaged.replicas.map((r) => ({ location: r.location })) } };
  }
  return { automatic: {} };
}

export function expireTimeOf(info: SecretInfo): string | undefined {
  const kept = info.extra.expireTime;
  return typeof kept === 'string' ? kept : undefined;
}

/** Versions added with a client data_crc32c (client_specified_payload_checksum). */
export function checksummedOf(info: SecretInfo): number[] {
  const kept = info.extra.checksummed;
  return Array.isArray(kept) ? kept.filter((v): v is number => typeof v === 'number') : [];
}

type Given = Record<string, unknown>;

/** The replication given at create, checked; automatic when none is given (the real API requires one). */
export function parseReplication(given: unknown): Replication {
  if (given === undefined || given === null) return { automatic: {} };
  const r = given as Given;
  const cmek = (x: unknown): { kmsKeyName: string } | undefined => {
    const name = (x as Given | undefined)?.kmsKeyName;
    if (x === undefined || x === null) return undefined;
    if (typeof name !== 'string' || name === '') throw invalidArgument('customer_managed_encryption.kms_key_name must be set.');
    return { kmsKeyName: name };
  };
  if (r.userManaged !== undefined && r.userManaged !== null) {
    const replicas = (r.userManaged as Given).replicas;
    if (!Array.isArray(replicas) || replicas.length === 0) throw invalidArgument('replication.user_managed.replicas must name at least one location.');
    return {
      userManaged: {
        replicas: replicas.map((replica: Given) => {
          if (typeof replica.location !== 'string' || !/^[a-z0-9-]{1,63}$/.test(replica.location)) {
            throw invalidArgument('Each replica must name a location.');
          }
          const key = cmek(replica.customerManagedEncryption);
          return key === undefined ? { location: replica.location } : { location: replica.location, customerManagedEncryption: key };
        }),
      },
    };
  }
  const key = cmek((r.automatic as Given | undefined)?.customerManagedEncryption);
  return { automatic: key === undefined ? {} : { customerManagedEncryption: key } };
}

const msOf = (t: { seconds?: unknown; nanos?: unknown }): number =>
  Number(t.seconds ?? 0) * 1000 + Math.floor(Number(t.nanos ?? 0) / 1e6);

/** expire_time, or now + ttl, as ISO; undefined when neither is given. In the future, as the API requires. */
export function parseExpiration(given: Given, now = Date.now()): string | undefined {
  const expire = given.expireTime as Timestamp | undefined | null;
  const ttl = given.ttl as { seconds?: unknown; nanos?: unknown } | undefined | null;
  if (expire && ttl) throw invalidArgument('Only one of expire_time and ttl may be set.');
  let at: number | undefined;
  if (expire) at = msOf(expire);
  else if (ttl) {
    const ms = msOf(ttl);
    if (!(ms > 0)) throw invalidArgument('ttl must be positive.');
    at = now + ms;
  }
  if (at === undefined) return undefined;
  if (!Number.isFinite(at) || at <= now) throw invalidArgument('expire_time must be in the future.');
  return new Date(at).toISOString();
}
