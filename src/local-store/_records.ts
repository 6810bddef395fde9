import type { SealedValue } from './encryption.ts';
import type { VersionState } from './types.ts';

/** The records the local store keeps on disk (types only). */

/** One version on disk. `sealed` is absent once destroyed (the ciphertext is wiped). */
export interface VersionRecord {
  version: number;
  state: Exclude<VersionState, 'damaged'>;
  createTime: string;
  destroyTime?: string;
  sealed?: SealedValue;
}

/** A secret's metadata on disk (everything but its versions). */
export interface SecretMetaRecord {
  name: string;
  createTime: string;
  etag: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  aliases: Record<string, number>;
  extra: Record<string, unknown>;
}
