import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/** Version of the on-disk format; part of every AAD and MAC so old data cannot be replayed as new. */
export const FORMAT_VERSION = 1;

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** Keys derived from the master key for one store (HKDF-SHA256, salt = store id). */
export interface StoreKeys {
  /** Wraps each version's data key (AES-256-GCM). */
  readonly wrapKey: Buffer;
  /** Authenticates the metadata of every secret file (HMAC-SHA256). */
  readonly macKey: Buffer;
  /** Proves the master key is the store's (HMAC-SHA256 of a fixed label). */
  readonly keyCheck: string;
}

/** A value sealed for one version: all base64. */
export interface SealedValue {
  /** AES-256-GCM nonce of the value. */
  nonce: string;
  /** Value ciphertext followed by its 16-byte GCM tag. */
  ciphertext: string;
  /** The data key: nonce ‖ AES-256-GCM(wrapKey, dataKey) ‖ tag. */
  wrappedKey: string;
}

function derive(master: Uint8Array, storeId: string, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.from(storeId, 'utf8'), `keyshift/v${FORMAT_VERSION}/${label}`, KEY_BYTES));
}

export function deriveStoreKeys(master: Uint8Array, storeId: string): StoreKeys {
  const checkKey = derive(master, storeId, 'key-check');
  const keyCheck = createHmac('sha256', checkKey).update('keyshift master key check').digest('base64');
  checkKey.fill(0);
  return { wrapKey: derive(master, storeId, 'wrap'), macKey: derive(master, storeId, 'mac'), keyCheck };
}

/** Constant-time comparison of two key-check records. */
export function keyCheckMatches(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'base64');
  const b = Buffer.from(actual, 'base64');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A short, value-free fingerprint of a key check for error messages. */
export function keyId(keyCheck: string): string {
  return Buffer.from(keyCheck, 'base64').subarray(0, 4).toString('hex');
}

/**
 * AAD of a value: store id ‖ entry name ‖ version ‖ format version, NUL-separated (names
 * cannot hold a NUL, so the encoding is unambiguous). Moving a ciphertext to another
 * store, secret or version makes it fail to decrypt.
 */
export function valueAad(storeId: string, name: string, version: number): Buffer {
  return Buffer.from(`keyshift-value\0${storeId}\0${name}\0${version}\0${FORMAT_VERSION}`, 'utf8');
}

function gcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { nonce: Buffer; sealed: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, sealed };
}

/** Throws (a plain Error, which callers wrap) when the tag does not verify. */
function gcmOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) throw new Error('malformed ciphertext');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
}

/** Encrypts a value under a fresh 256-bit data key, then wraps that key with the store's wrap key. */
export function sealValue(keys: StoreKeys, aad: Uint8Array, plaintext: Uint8Array): SealedValue {
  const dataKey = randomBytes(KEY_BYTES);
  try {
    const value = gcmSeal(dataKey, plaintext, aad);
    const wrapped = gcmSeal(keys.wrapKey, dataKey, aad);
    return {
      nonce: value.nonce.toString('base64'),
      ciphertext: value.sealed.toString('base64'),
      wrappedKey: Buffer.concat([wrapped.nonce, wrapped.sealed]).toString('base64'),
    };
  } finally {
    dataKey.fill(0);
  }
}

/** Unwraps the data key and decrypts. Throws a plain Error on any tampering; callers wrap it. */
export function openValue(keys: StoreKeys, aad: Uint8Array, sealed: SealedValue): Buffer {
  const wrapped = Buffer.from(sealed.wrappedKey, 'base64');
  const dataKey = gcmOpen(keys.wrapKey, wrapped.subarray(0, NONCE_BYTES), wrapped.subarray(NONCE_BYTES), aad);
  try {
    return gcmOpen(dataKey, Buffer.from(sealed.nonce, 'base64'), Buffer.from(sealed.ciphertext, 'base64'), aad);
  } finally {
    dataKey.fill(0);
  }
}

/** Size of the plaintext inside a sealed value, known without decrypting. */
export function sealedSize(sealed: SealedValue): number {
  return Math.max(0, Buffer.byteLength(sealed.ciphertext, 'base64') - TAG_BYTES);
}

/** HMAC-SHA256 of metadata (canonical JSON), base64. */
export function macOf(keys: StoreKeys, canonical: string): string {
  return createHmac('sha256', keys.macKey).update(canonical, 'utf8').digest('base64');
}

export function macMatches(keys: StoreKeys, canonical: string, mac: string): boolean {
  const expected = createHmac('sha256', keys.macKey).update(canonical, 'utf8').digest();
  const actual = Buffer.from(mac, 'base64');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Zeroes the derived keys (on close). */
export function wipeKeys(keys: StoreKeys): void {
  keys.wrapKey.fill(0);
  keys.macKey.fill(0);
}
