import { ErrorCodes, KeyshiftError } from '../../errors.ts';

/**
 * A codec turns the text of a version into a typed value, or throws a `CodecError`
 * whose reason names the rule that failed and never the value.
 */
export interface Codec<T> {
  /** The type's name, for status, inventory and error messages ("int", "url"...). */
  readonly kind: string;
  decode(text: string): T;
  /** A value-free description safe to show on a status page (the URL codec gives the origin). */
  display?(value: T): string | undefined;
}

/**
 * A value failed its type. keyshift screens every reason before it reaches a message
 * (src/core/_screen.ts): a reason that repeats part of the value is withheld. `context`
 * is an optional value-free prefix (such as "failed validation at $.key#2") that is kept
 * when the rest is withheld; `reason` is the whole text, `context: detail`.
 */
export class CodecError extends Error {
  readonly reason: string;
  readonly detail: string;
  readonly context: string | undefined;

  constructor(detail: string, context?: string) {
    const reason = context === undefined ? detail : `${context}: ${detail}`;
    super(reason);
    this.name = 'CodecError';
    this.reason = reason;
    this.detail = detail;
    this.context = context;
  }
}

/** Shared bounds check for the numeric codecs. */
export function checkRange(n: number | { cmp(x: number): number }, min?: number, max?: number): void {
  const below = typeof n === 'number' ? min !== undefined && n < min : min !== undefined && n.cmp(min) < 0;
  const above = typeof n === 'number' ? max !== undefined && n > max : max !== undefined && n.cmp(max) > 0;
  if (below) throw new CodecError(`below the minimum of ${min}`);
  if (above) throw new CodecError(`above the maximum of ${max}`);
}

/** Option kinds a codec takes: a number, a boolean, a RegExp, a list of strings. */
type OptionKind = 'number' | 'boolean' | 'regexp' | 'strings' | 'unit';

function fits(value: unknown, kind: OptionKind, units: readonly string[]): boolean {
  if (kind === 'number') return typeof value === 'number' && Number.isFinite(value);
  if (kind === 'boolean') return typeof value === 'boolean';
  if (kind === 'regexp') return value instanceof RegExp;
  if (kind === 'unit') return units.includes(value as string);
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string');
}

/**
 * Checks a codec's options when it is made (`t.decimal({ min: 5, max: 1 })`, a typo such
 * as `minLen`): a KS_ERR_INVALID_DECLARATION naming the codec and the option, instead of
 * a codec that rejects every version or a TypeError at the first fetch.
 */
export function checkCodecOptions<O>(
  codec: string,
  options: O | undefined,
  // one kind for every option of O: an option added to the type and not listed is a type error
  fields: { readonly [K in keyof Required<O>]: OptionKind },
  units: readonly string[] = [],
): void {
  const invalid = (message: string): KeyshiftError => new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${codec}: ${message}`);
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  const o = options as Record<string, unknown>;
  const unknown = Object.keys(o).filter((key) => !Object.hasOwn(fields, key));
  if (unknown.length > 0) throw invalid(`unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (the options are ${Object.keys(fields).join(', ')})`);
  for (const [key, kind] of Object.entries<OptionKind>(fields)) {
    if (o[key] === undefined || fits(o[key], kind, units)) continue;
    const wants = { number: 'a finite number', boolean: 'true or false', regexp: 'a RegExp', strings: 'a non-empty array of strings', unit: `one of ${units.join(', ')}` }[kind];
    throw invalid(`option ${key} must be ${wants}`);
  }
  for (const [low, high] of [['min', 'max'], ['minLength', 'maxLength'], ['minMs', 'maxMs']] as const) {
    if (typeof o[low] === 'number' && typeof o[high] === 'number' && o[low] > o[high]) throw invalid(`${low} (${o[low]}) is above ${high} (${o[high]})`);
  }
}
