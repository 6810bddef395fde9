/**
 * How an entry name that matches nothing declared appears in a message. A name is what
 * a user types; a value is what a user pastes by mistake (`ks.get(process.env.KEY)`,
 * `/v1/entries/<the token>`), and the message then goes to a log. So an unknown name is
 * quoted only when it reads like a name: at most 64 letters, digits, `_` and `-`, in
 * words split by `_` and `-`, each a number or letters with at most a trailing number,
 * the letters all upper case, all lower case or camelCase with humps of 4+ letters on
 * average (`API_KEY`, `NOPE`, `dbPassword`, `S3_BUCKET`, `KEY_V2`). Anything else (a
 * digit inside a word or mixed case, as in nearly every random token, or any other
 * character) is replaced by NAME_WITHHELD. A value made of plain words
 * (`correct-horse-battery`) still reads like a name: the rule is a screen for tokens,
 * not a guarantee.
 */

const CHARS = /^[A-Za-z0-9_-]{1,64}$/;
const WORD = /^(?:([A-Za-z]+)\d*|\d+)$/;
const LETTERS = /^(?:[A-Z]+|[a-z]+|[A-Z]?[a-z]+(?:[A-Z][a-z]+)*)$/;

export const NAME_WITHHELD = '(a name withheld: it does not read like a name and may be a value)';

/** True when `name` reads like an entry name (the rule above). */
export function readsLikeName(name: unknown): name is string {
  if (typeof name !== 'string' || !CHARS.test(name) || !/[A-Za-z]/.test(name)) return false;
  for (const word of name.split(/[_-]+/)) {
    if (word === '') continue;
    const letters = WORD.exec(word);
    if (letters === null) return false;
    const text = letters[1];
    if (text === undefined) continue;
    if (!LETTERS.test(text) || (text.match(/[a-z][A-Z]/g) ?? []).length * 4 > text.length) return false;
  }
  return true;
}

/** `"NAME"` (JSON-quoted) when `name` reads like a name, else NAME_WITHHELD. */
export function shownName(name: unknown): string {
  return readsLikeName(name) ? JSON.stringify(name) : NAME_WITHHELD;
}
