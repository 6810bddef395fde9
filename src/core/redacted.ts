/**
 * `Secret<T>` wraps a value so that nothing prints or copies it by accident:
 * console.log, util.inspect (even showHidden / customInspect: false), JSON.stringify,
 * String(), template literals, spread, Object.entries, structuredClone and postMessage
 * all see `[redacted]` or an empty object. The value lives in a module-private WeakMap,
 * not in a field (private fields alone are not enough, nodejs/node#27404).
 * Revealing is an explicit, greppable `.reveal()`.
 */

const values = new WeakMap<object, unknown>();
const REDACTED = '[redacted]';

export class Secret<T = string> {
  constructor(value: T) {
    values.set(this, value);
    Object.freeze(this);
  }

  /** The wrapped value. Every call site is a place where a secret leaves keyshift. */
  reveal(): T {
    return values.get(this) as T;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  valueOf(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${REDACTED})`;
  }

  get [Symbol.toStringTag](): string {
    return 'Secret';
  }

  /** True for values wrapped by keyshift. */
  static isSecret(value: unknown): value is Secret<unknown> {
    return typeof value === 'object' && value !== null && values.has(value);
  }
}

/** The value inside a `Secret`, or the value itself. */
export function reveal<T>(value: T | Secret<T>): T {
  return value instanceof Secret ? value.reveal() : value;
}
