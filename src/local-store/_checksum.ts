import { createHash } from 'node:crypto';

/**
 * A SHA-256 checksum inside a JSON file, over every byte of the file: the checksum's own 64
 * hex digits count as zeros. So a flipped byte anywhere (a value, a key, white space, the
 * checksum itself) is detected, and the file stays plain JSON. Used where damage must be
 * told apart from a wrong key (store.json) or where no key is needed (head.json); the
 * secret files carry a MAC instead.
 */
const FIELD = /"sha256": ?"/g;
const DIGITS = 64;
const PLACEHOLDER = '0'.repeat(DIGITS);

function digest(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `value` serialised (with `indent`) and a final newline, its last field `sha256` holding the checksum of the whole. */
export function serializeWithChecksum(value: Record<string, unknown>, indent?: number): string {
  const open = `${JSON.stringify({ ...value, sha256: PLACEHOLDER }, null, indent)}\n`;
  const at = open.lastIndexOf(PLACEHOLDER);
  return `${open.slice(0, at)}${digest(open)}${open.slice(at + DIGITS)}`;
}

/** Where the checksum digits start, or -1 when the file carries no checksum field. */
function digitsAt(text: string): number {
  let at = -1;
  for (const match of text.matchAll(FIELD)) at = match.index + match[0].length;
  return at;
}

/**
 * Whether `text` carries a checksum field. A file without one is accepted only when its
 * format says it was written before checksums (0.1.0); a file that carries one is always
 * checked, so a flipped bit that turns a format 2 into a 1 is still caught.
 */
export function hasChecksum(text: string): boolean {
  return digitsAt(text) >= 0;
}

/** True when the checksum field is present, well-formed and matches every byte of `text`. */
export function checksumMatches(text: string): boolean {
  const start = digitsAt(text);
  if (start < 0) return false;
  const given = text.slice(start, start + DIGITS);
  if (!/^[0-9a-f]{64}$/.test(given) || text[start + DIGITS] !== '"') return false;
  return digest(`${text.slice(0, start)}${PLACEHOLDER}${text.slice(start + DIGITS)}`) === given;
}
