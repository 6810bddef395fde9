import { type Codec, CodecError, checkCodecOptions } from './codec.ts';

export interface StringCodecOptions {
  /** Minimum length in characters. Default 0 (an empty string is valid). */
  minLength?: number;
  /** Maximum length in characters. Default: none (the byte cap applies). */
  maxLength?: number;
  /** A pattern the whole value must match. Default: none. */
  pattern?: RegExp;
  /** For values sent in HTTP headers or URLs: refuse CR, LF and NUL. Default false (NUL is always refused). */
  header?: boolean;
}

const HEADER_UNSAFE = /[\r\n\0]/;

/** `t.string()` without options: one shared codec, not an object and a closure per entry. */
const PLAIN: Codec<string> = Object.freeze({
  kind: 'string',
  decode(text: string): string {
    if (text.includes('\0')) throw new CodecError('contains a NUL character');
    return text;
  },
});

export function string(options: StringCodecOptions = {}): Codec<string> {
  checkCodecOptions('t.string()', options, { minLength: 'number', maxLength: 'number', pattern: 'regexp', header: 'boolean' });
  const { minLength = 0, maxLength, pattern, header = false } = options;
  if (minLength === 0 && maxLength === undefined && pattern === undefined && !header) return PLAIN;
  return {
    kind: 'string',
    decode(text) {
      if (text.includes('\0')) throw new CodecError('contains a NUL character');
      if (header && HEADER_UNSAFE.test(text)) throw new CodecError('contains CR or LF, not allowed in a header value');
      if (text.length < minLength) throw new CodecError(`shorter than ${minLength} characters`);
      if (maxLength !== undefined && text.length > maxLength) throw new CodecError(`longer than ${maxLength} characters`);
      if (pattern && !pattern.test(text)) throw new CodecError(`does not match the pattern ${pattern}`);
      return text;
    },
  };
}

/** One of a fixed set of strings. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T): Codec<T[number]> {
  checkCodecOptions('t.oneOf()', { values }, { values: 'strings' });
  const allowed = new Set<string>(values);
  return {
    kind: 'enum',
    decode(text) {
      if (!allowed.has(text)) throw new CodecError(`is not one of ${values.join(', ')}`);
      return text as T[number];
    },
  };
}
