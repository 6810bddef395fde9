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
