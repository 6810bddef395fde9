/**
 * The one screen between a value and a message. Every reason a codec or a validator
 * gives for refusing a version passes through `screenReason` before it reaches an error,
 * so the default logger, the `rejected` event and its channel, `status().lastError`, the
 * admin status page and its alerts, and the error `ready()` throws all show the same
 * screened text.
 *
 * The rule (docs/errors.md, "Values in messages"):
 * - a message is withheld when it contains, ignoring case, any run of ECHO_MIN (4)
 *   characters of the value's text or of any of its forms (for JSON: every key and every
 *   string and number, unescaped). Four is the shortest run that still tells something
 *   about a random secret (3 base64 characters are 18 bits) while short enough to catch
 *   a validator that prints a prefix, a suffix or a case-changed copy. A run counts only
 *   when it holds a letter or a digit (so JSON punctuation and indentation such as
 *   `", "` do not withhold every message), unless the form has no letter or digit at all;
 * - a whole value shorter than ECHO_MIN is withheld only as a whole word (not glued to
 *   a letter, digit or `_` on either side), ignoring case: a value "ab" withholds
 *   "got ab" but not "table"; looking for two-letter runs would withhold every message.
 *   Inside JSON, keys and leaves shorter than ECHO_MIN are not screened (see formsOf),
 *   nor is a short value without a letter or digit.
 * - a message is also withheld when it repeats ENCODED_MIN (8) characters in a row of the
 *   value's text (or of a JSON value's keys and leaves) in base64, base64url or hex, in
 *   any case: a validator that prints what it got as bytes ("got 736b5f6c...") or a codec
 *   that reports a Buffer. Eight, since these alphabets are what ordinary messages are
 *   made of (4 hex digits are a year).
 * A message that is withheld is replaced as a whole, never masked in part: masking
 * leaves the characters between matches, which can be most of a slightly altered value.
 * The price is false positives: a value "10000" withholds "above the maximum of 1000".
 */

export const ECHO_MIN = 4;
export const ENCODED_MIN = 8;
export const WITHHELD = 'the message is withheld: it repeats part of the value';

const ALNUM = /[\p{L}\p{N}]/u;
const WORD = /[\p{L}\p{N}_]/u;
const MAX_FORMS = 10_000;

/**
 * The text forms of a value: itself, or every key and leaf of a parsed object or array
 * (depth-bounded), other objects by their text. Inside an object or array, keys and
 * leaves shorter than ECHO_MIN are left out: a small number or a short word there says
 * next to nothing, and screening them would withhold every bound ("at least 0").
 */
export function formsOf(value: unknown, out: string[] = [], depth = 0): string[] {
  const add = (text: string): void => {
    if (depth === 0 || [...text].length >= ECHO_MIN) out.push(text);
  };
  if (out.length >= MAX_FORMS) return out;
  if (typeof value === 'string') add(value);
  else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') add(String(value));
  else if (typeof value === 'object' && value !== null && depth < 32) {
    const proto: unknown = Object.getPrototypeOf(value);
    if (Array.isArray(value) || proto === Object.prototype || proto === null) {
      for (const [key, child] of Object.entries(value)) {
        if (!Array.isArray(value) && [...key].length >= ECHO_MIN) out.push(key);
        formsOf(child, out, depth + 1);
      }
    } else if (!(value instanceof Uint8Array)) add(String(value)); // a decimal, a date: its text
  }
  return out;
}

/** The lower-case runs of ECHO_MIN characters of `form` that count (see the rule above). */
function runsOf(form: string, into: Set<string>): void {
  const chars = [...form.toLowerCase()];
  const any = chars.some((c) => ALNUM.test(c));
  for (let i = 0; i + ECHO_MIN <= chars.length; i++) {
    const run = chars.slice(i, i + ECHO_MIN);
    if (!any || run.some((c) => ALNUM.test(c))) into.add(run.join(''));
  }
}

/** True when `short` (lower case) stands in `message` (lower case) as a whole word. */
function hasWord(message: string, short: string): boolean {
  for (let at = message.indexOf(short); at !== -1; at = message.indexOf(short, at + 1)) {
    const before = message[at - 1];
    const after = message[at + short.length];
    const glued = (before !== undefined && WORD.test(before) && WORD.test(short[0] ?? '')) || (after !== undefined && WORD.test(after) && WORD.test(short.at(-1) ?? ''));
    if (!glued) return true;
  }
  return false;
}

/** The lower-case runs of ENCODED_MIN characters of `form`'s UTF-8 bytes in base64 (and base64url) and hex. */
function encodedRunsOf(form: string, into: Set<string>): void {
  const bytes = Buffer.from(form, 'utf8');
  for (const text of [bytes.toString('base64').replace(/=+$/, ''), bytes.toString('hex')]) {
    const lower = text.toLowerCase().replace(/\+/g, '-').replace(/\//g, '_');
    for (let i = 0; i + ENCODED_MIN <= lower.length; i++) into.add(lower.slice(i, i + ENCODED_MIN));
  }
}

/** True when `message` repeats any of `forms` by the rule above. */
export function echoes(message: string, forms: readonly string[]): boolean {
  const lower = message.toLowerCase();
  const chars = [...lower];
  const runs = new Set<string>();
  const encoded = new Set<string>();
  for (const form of forms) {
    if (form.length === 0) continue;
    if ([...form].length < ECHO_MIN) {
      // a short value without a letter or digit (" ", "-") would withhold every message
      if (ALNUM.test(form) && hasWord(lower, form.toLowerCase())) return true;
    } else {
      runsOf(form, runs);
      encodedRunsOf(form, encoded);
    }
  }
  for (let i = 0; i + ECHO_MIN <= chars.length; i++) if (runs.has(chars.slice(i, i + ECHO_MIN).join(''))) return true;
  if (encoded.size === 0) return false;
  const url = lower.replace(/\+/g, '-').replace(/\//g, '_'); // base64 and base64url alike
  for (let i = 0; i + ENCODED_MIN <= url.length; i++) if (encoded.has(url.slice(i, i + ENCODED_MIN))) return true;
  return false;
}

/**
 * `reason`, or WITHHELD when it repeats part of the value. `context` is a value-free
 * prefix keyshift itself wrote (such as "failed validation at $.key#2"): kept when the
 * rest is withheld, so the message still says where the value failed.
 */
export function screenReason(reason: string, forms: readonly string[], context?: string): string {
  if (reason === WITHHELD) return context === undefined || echoes(context, forms) ? WITHHELD : `${context}: ${WITHHELD}`;
  const full = context === undefined ? reason : `${context}: ${reason}`;
  if (!echoes(full, forms)) return full;
  if (context !== undefined && !echoes(context, forms)) return `${context}: ${WITHHELD}`;
  return WITHHELD;
}
