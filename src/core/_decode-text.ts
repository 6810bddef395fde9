import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { CodecError } from './codecs/codec.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The one text rule for every source (env, file, store, cloud), so a value reads the
 * same wherever it lives:
 * - bytes are decoded as UTF-8 with a fatal decoder (invalid bytes are rejected, never
 *   replaced with U+FFFD); strings with lone surrogates are rejected;
 * - one leading byte-order mark is removed;
 * - exactly one trailing "\n" (or "\r\n") is removed, as `echo` and editors add one.
 */
export function decodeText(raw: string | Uint8Array, maxBytes: number, entry: string): string {
  const size = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
  if (size > maxBytes) {
    throw new KeyshiftError(
      ErrorCodes.VALUE_TOO_LARGE,
      `entry ${entry}: value of ${size} bytes is over the ${maxBytes}-byte limit`,
      { entry, details: { bytes: size, maxBytes } },
    );
  }
  let text: string;
  if (typeof raw === 'string') {
    if (!raw.isWellFormed()) throw new CodecError('text contains a lone UTF-16 surrogate');
    text = raw;
  } else {
    try {
      text = utf8.decode(raw);
    } catch {
      throw new CodecError('bytes are not valid UTF-8');
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.endsWith('\r\n')) text = text.slice(0, -2);
  else if (text.endsWith('\n')) text = text.slice(0, -1);
  return text;
}
