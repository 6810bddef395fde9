const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX = /^[0-9a-fA-F]{4}$/;
const MAX_DEPTH = 512;

/**
 * The offset of the first JSON syntax error in `text`, or -1 when there is none.
 * Called only after `JSON.parse` failed: V8's message quotes the input, so it is never
 * forwarded; this scanner finds the position without echoing a character of the body.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const skip = (): void => {
    while (i < text.length && WHITESPACE.has(text.charCodeAt(i))) i++;
  };
  const literal = (word: string): boolean => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false;
    return true;
  };
  const string = (): boolean => {
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c !== 0x5c) {
        i++;
        continue;
      }
      const next = text[i + 1];
      if (next === 'u' && HEX.test(text.slice(i + 2, i + 6))) i += 6;
      else if (next !== undefined && next !== 'u' && ESCAPES.has(next)) i += 2;
      else return false;
    }
    return false;
  };
  const container = (close: string, depth: number, member: () => boolean): boolean => {
    i++;
    skip();
    if (text[i] === close) {
      i++;
      return true;
    }
    for (;;) {
      if (!member()) return false;
      skip();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] !== close) return false;
      i++;
      return depth >= 0;
    }
  };
  const value = (depth: number): boolean => {
    skip();
    if (depth > MAX_DEPTH) return false;
    const c = text[i];
    if (c === '{') {
      return container('}', depth, () => {
        skip();
        if (text[i] !== '"' || !string()) return false;
        skip();
        if (text[i] !== ':') return false;
        i++;
        return value(depth + 1);
      });
    }
    if (c === '[') return container(']', depth, () => value(depth + 1));
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    NUMBER.lastIndex = i;
    if (NUMBER.exec(text) === null) return false;
    i = NUMBER.lastIndex;
    return true;
  };
  if (value(0)) {
    skip();
    if (i === text.length) return -1;
  }
  return Math.min(i, text.length);
}

/** "at position 12 (line 1, column 13)" or "unexpected end of input at position 40": no body text. */
export function describeJsonError(text: string): string {
  const offset = jsonErrorOffset(text);
  const at = offset < 0 ? text.length : offset;
  if (at >= text.length) return `malformed JSON: unexpected end of input at position ${at}`;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return `malformed JSON: unexpected character at position ${at} (line ${line}, column ${column})`;
}
