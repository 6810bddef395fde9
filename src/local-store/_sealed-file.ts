import { corrupt } from './_fs-errors.ts';
import { type StoreKeys, macMatches, macOf } from './encryption.ts';

/**
 * A file that authenticates every one of its bytes: a header line (kind, format, store id,
 * MAC) and a body line, each followed by a newline. The MAC (HMAC-SHA256 with the store's
 * `mac` key) covers the kind, the format, the store id, the file's `subject` (what it must
 * be about: a secret name, or a name and a version) and the body line byte for byte; the
 * header must be exactly its canonical serialisation. So a flipped byte anywhere, a file
 * copied from another store, secret or version, or a truncated write is caught.
 */
export const SEALED_FORMAT = 2;

function macInput(kind: string, storeId: string, subject: string, body: string): string {
  return `${kind}\0${SEALED_FORMAT}\0${storeId}\0${subject}\0${body}`;
}

function headerLine(kind: string, storeId: string, mac: string): string {
  return JSON.stringify({ kind, format: SEALED_FORMAT, storeId, mac });
}

export function serializeSealed(keys: StoreKeys, storeId: string, kind: string, subject: string, body: unknown): string {
  const line = JSON.stringify(body);
  return `${headerLine(kind, storeId, macOf(keys, macInput(kind, storeId, subject, line)))}\n${line}\n`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The authenticated body of a sealed file. Throws KS_ERR_STORE_CORRUPT naming `path` (and
 * what is wrong, never a value) when any byte is off.
 */
export function parseSealed(
  keys: StoreKeys,
  storeId: string,
  kind: string,
  subject: string,
  text: string,
  path: string,
): Record<string, unknown> {
  if (text.length === 0) throw corrupt(path, 'it is empty');
  const newline = text.indexOf('\n');
  if (newline < 0 || newline === text.length - 1 || !text.endsWith('\n')) throw corrupt(path, 'it is truncated');
  const body = text.slice(newline + 1, -1);
  let header: unknown;
  try {
    header = JSON.parse(text.slice(0, newline));
  } catch (error) {
    throw corrupt(path, 'its header line is not valid JSON', error);
  }
  if (!isObject(header) || header.kind !== kind) throw corrupt(path, `it is not a ${kind} file`);
  if (header.format !== SEALED_FORMAT) throw corrupt(path, `unsupported format ${String(header.format)}`);
  if (header.storeId !== storeId) throw corrupt(path, 'it belongs to another store');
  const mac = header.mac;
  // Canonical base64 too: a lenient decoder ignores the spare low bits of the last digit.
  if (typeof mac !== 'string' || Buffer.from(mac, 'base64').toString('base64') !== mac || headerLine(kind, storeId, mac) !== text.slice(0, newline)) {
    throw corrupt(path, 'its header line is damaged');
  }
  if (!macMatches(keys, macInput(kind, storeId, subject, body), mac)) {
    throw corrupt(path, 'its MAC does not verify (a damaged byte, or the file was modified or moved outside keyshift)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw corrupt(path, 'its body line is not valid JSON', error);
  }
  if (!isObject(parsed)) throw corrupt(path, 'its body line is not a JSON object');
  return parsed;
}
