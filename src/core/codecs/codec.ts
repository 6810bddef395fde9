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

/** A value failed its type. `reason` is value-free by construction. */
export class CodecError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'CodecError';
  }
}

/** Shared bounds check for the numeric codecs. */
export function checkRange(n: number | { cmp(x: number): number }, min?: number, max?: number): void {
  const below = typeof n === 'number' ? min !== undefined && n < min : min !== undefined && n.cmp(min) < 0;
  const above = typeof n === 'number' ? max !== undefined && n > max : max !== undefined && n.cmp(max) > 0;
  if (below) throw new CodecError(`below the minimum of ${min}`);
  if (above) throw new CodecError(`above the maximum of ${max}`);
}
