/**
 * The migration of a plain signing secret (one string, as a service used it before the
 * keyring) to a keyset: the current value becomes the first, primary key, so every token
 * the keyring signs with it is what the old key would have checked, and the next keyring
 * rotation adds a new key with the old one verifying through the overlap. The keyring
 * itself refuses a plain string ("keyset rejected: not JSON").
 */
import { KEYRING_MIN_KEY_BYTES } from '../../constants.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { createKeyset } from './keyset-stages.ts';
import { type Keyset, parseKeyset } from './keyset.ts';

/** The kid the former plain value gets unless another is given. */
export const MIGRATED_KID = 'k0';

/** True when `text` is already a valid keyset (a migration then has nothing to do). */
export function isKeyset(text: string): boolean {
  try {
    parseKeyset(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * A keyset whose only key (primary) is the plain value's bytes, read as the core reads a
 * value (one BOM and one trailing newline removed). Refused (KS_ERR_ROTATION_REFUSED) when
 * the value already is a keyset or is under 32 bytes (rotate to a new random key instead).
 */
export function keysetFromPlainSecret(value: Uint8Array, options: { now: number; kid?: string }): Keyset {
  let bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  if (bytes.at(-1) === 0x0a) bytes = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
  if (isKeyset(bytes.toString('utf8'))) {
    throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, 'the value is already a keyset: nothing to migrate');
  }
  if (bytes.length < KEYRING_MIN_KEY_BYTES) {
    throw new KeyshiftError(
      ErrorCodes.ROTATION_REFUSED,
      `the plain value is ${bytes.length} bytes; a keyring key needs at least ${KEYRING_MIN_KEY_BYTES} (RFC 7518 §3.2): put a new random keyset instead (tokens signed with the old value stop verifying)`,
    );
  }
  return createKeyset({ now: options.now, kid: options.kid ?? MIGRATED_KID, material: bytes });
}
