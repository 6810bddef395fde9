import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type Codec, CodecError } from './codec.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** Every text and number leaf of a decoded value (what an issue message must not repeat). */
function leaves(value: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') out.push(value);
  else if (typeof value === 'number' || typeof value === 'bigint') out.push(String(value));
  else if (typeof value === 'object' && value !== null && depth < 32) {
    for (const [key, child] of Object.entries(value)) {
      out.push(key);
      leaves(child, out, depth + 1);
    }
  }
  return out;
}

const WINDOW = 8;

/** True when `message` repeats a leaf of 4+ characters, or any 8 characters in a row of one (F4: valibot echoes the input). */
function echoes(message: string, value: unknown): boolean {
  for (const leaf of leaves(value)) {
    if (leaf.length >= 4 && message.includes(leaf)) return true;
    for (let i = 0; i + WINDOW <= leaf.length; i++) if (message.includes(leaf.slice(i, i + WINDOW))) return true;
  }
  return false;
}

/**
 * Runs a Standard Schema validator (zod, valibot, arktype...) synchronously and returns
 * its output, or throws a CodecError built from the first issue's path and message. A
 * message that repeats part of the value (some validators echo what they received) is
 * withheld: the reason keeps the path only.
 */
export function validateWith<T>(schema: StandardSchemaV1<unknown, T>, value: unknown): T {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) throw new CodecError('the validator is asynchronous; keyshift needs a synchronous one');
  if (result.issues) {
    const first = result.issues[0];
    const path = first?.path?.map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.') ?? '';
    const message = first?.message ?? 'invalid';
    const shown = echoes(message, value) ? "the validator's message is withheld: it repeats part of the value" : message;
    throw new CodecError(`failed validation${path ? ` at ${path}` : ''}: ${shown}`);
  }
  return result.value;
}

/**
 * JSON, parsed strictly (no trailing commas, no comments), with `__proto__`,
 * `constructor` and `prototype` keys refused, then checked by an optional Standard
 * Schema. The result is deeply frozen.
 */
export function json<T = unknown>(schema?: StandardSchemaV1<unknown, T>): Codec<T> {
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
