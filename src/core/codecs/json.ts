import type { StandardSchemaV1 } from '@standard-schema/spec';
import { formsOf, screenReason } from '../_screen.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { type Codec, CodecError } from './codec.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** One issue path segment as Standard Schema gives it. */
type Segment = PropertyKey | { readonly key: PropertyKey };

/**
 * An issue path by position, never by name (a key can be the secret: a map from API
 * key to tenant): `$` is the value, `[i]` an element of an array, `.key#n` the n-th key
 * of an object (1-based, in the order Object.keys lists them), `.key#?` a key the value
 * does not have.
 */
export function pathByPosition(path: readonly Segment[] | undefined, value: unknown): string {
  let out = '$';
  let at: unknown = value;
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (Array.isArray(at) && (typeof key === 'number' || (typeof key === 'string' && /^(0|[1-9][0-9]*)$/.test(key)))) {
      out += `[${Number(key)}]`;
      at = at[Number(key)];
    } else if (typeof at === 'object' && at !== null && typeof key !== 'symbol') {
      const index = Object.keys(at).indexOf(String(key));
      out += index === -1 ? '.key#?' : `.key#${index + 1}`;
      at = index === -1 ? undefined : (at as Record<string, unknown>)[String(key)];
    } else {
      out += '.key#?';
      at = undefined;
    }
  }
  return out;
}

/**
 * Runs a Standard Schema validator (zod, valibot, arktype...) synchronously and returns
 * its output, or throws a CodecError built from the first issue: its path by position
 * (`pathByPosition`), and its message screened against the value (src/core/_screen.ts:
 * some validators echo what they received, in part or in another case).
 */
export function validateWith<T>(schema: StandardSchemaV1<unknown, T>, value: unknown): T {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) throw new CodecError('the validator is asynchronous; keyshift needs a synchronous one');
  if (result.issues) {
    const first = result.issues[0];
    const context = `failed validation at ${pathByPosition(first?.path, value)}`;
    const message = typeof first?.message === 'string' && first.message !== '' ? first.message : 'invalid';
    throw new CodecError(screenReason(message, formsOf(value)), context);
  }
  return result.value;
}

/**
 * JSON, parsed strictly (no trailing commas, no comments), with `__proto__`,
 * `constructor` and `prototype` keys refused, then checked by an optional Standard
 * Schema. The result is deeply frozen.
 */
export function json<T = unknown>(schema?: StandardSchemaV1<unknown, T>): Codec<T> {
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 't.json(): the schema must be a Standard Schema validator (zod, valibot, arktype...)');
  }
  return {
    kind: 'json',
    decode(text) {
      let parsed: unknown;
      let forbidden = false;
      try {
        parsed = JSON.parse(text, (key, value: unknown) => {
          if (FORBIDDEN_KEYS.has(key)) forbidden = true;
          return value;
        });
      } catch (error) {
        const where = error instanceof SyntaxError ? / position (\d+)/.exec(error.message)?.[1] : undefined;
        throw new CodecError(`is not valid JSON${where ? ` (at position ${where})` : ''}`);
      }
      if (forbidden) throw new CodecError('JSON contains a __proto__, constructor or prototype key');
      return deepFreeze(schema ? validateWith(schema, parsed) : (parsed as T));
    },
  };
}
