/**
 * One error base with a stable code per failure (undici's UND_ERR_*).
 * Messages are built from entry names, codes and numbers only: never a value.
 * Every code is listed in docs/errors.md and pinned by test/errors.test.ts.
 */

export const ErrorCodes = {
  /** The store could not be reached or answered with a transient failure. */
  SOURCE_UNAVAILABLE: 'KS_ERR_SOURCE_UNAVAILABLE',
  /** The store did not answer within the per-call deadline. */
  SOURCE_TIMEOUT: 'KS_ERR_SOURCE_TIMEOUT',
  /** The store asked us to slow down (quota, throttling). */
  SOURCE_THROTTLED: 'KS_ERR_SOURCE_THROTTLED',
  /** The secret (or the requested version) does not exist in the store. */
  SOURCE_NOT_FOUND: 'KS_ERR_SOURCE_NOT_FOUND',
  /** The store refused access (IAM, ACL, file permission). */
  SOURCE_DENIED: 'KS_ERR_SOURCE_DENIED',
  /** The version exists but is disabled or destroyed. */
  VERSION_DISABLED: 'KS_ERR_VERSION_DISABLED',
  /** The payload failed an integrity check (CRC32C, GCM tag). */
  CHECKSUM_MISMATCH: 'KS_ERR_CHECKSUM_MISMATCH',
  /** The payload is larger than the configured limit. */
  VALUE_TOO_LARGE: 'KS_ERR_VALUE_TOO_LARGE',
  /** A value failed its type or validator; the previous value stays. */
  VALUE_REJECTED: 'KS_ERR_VALUE_REJECTED',
  /** A declaration breaks a policy rule. */
  POLICY: 'KS_ERR_POLICY',
  /** A declaration or option is malformed. */
  INVALID_DECLARATION: 'KS_ERR_INVALID_DECLARATION',
  /** An entry name that the declaration does not contain. */
  UNKNOWN_ENTRY: 'KS_ERR_UNKNOWN_ENTRY',
  /** A dynamic operation on a static entry, or the reverse. */
  WRONG_KIND: 'KS_ERR_WRONG_KIND',
  /** A read before ready() resolved. */
  NOT_READY: 'KS_ERR_NOT_READY',
  /** ready() did not finish within its startup timeout. */
  STARTUP_TIMEOUT: 'KS_ERR_STARTUP_TIMEOUT',
  /** ready() failed for entries with different kinds of failure (StartupError lists each with its own code). */
  STARTUP_FAILED: 'KS_ERR_STARTUP_FAILED',
  /** A fail-closed entry is older than its maxStaleMs. */
  STALE: 'KS_ERR_STALE',
  /** The manager (or a source) was closed. */
  CLOSED: 'KS_ERR_CLOSED',
  /** A local store file is corrupt, truncated or was tampered with. */
  STORE_CORRUPT: 'KS_ERR_STORE_CORRUPT',
  /** The local store master key is missing, malformed or wrong. */
  MASTER_KEY: 'KS_ERR_MASTER_KEY',
  /** A conditional write lost a race (another writer moved the version on). */
  CONFLICT: 'KS_ERR_CONFLICT',
  /** The database refused the credentials (SQLSTATE 28P01/28000) and the retries ran out. */
  DB_AUTH: 'KS_ERR_DB_AUTH',
  /** No database connection could be had within the connect timeout, or the connection failed. */
  DB_UNAVAILABLE: 'KS_ERR_DB_UNAVAILABLE',
  /** A staged rotation step was refused (promoting a key before every instance holds it). */
  ROTATION_REFUSED: 'KS_ERR_ROTATION_REFUSED',
  /** The change-notification path (a Pub/Sub subscription, its topic, a heartbeat) could not be set up or went down; entries refresh at their own TTLs. */
  NOTIFICATIONS_UNAVAILABLE: 'KS_ERR_NOTIFICATIONS_UNAVAILABLE',
  /** Another keyshift agent holds the render directory's lock. */
  AGENT_LOCKED: 'KS_ERR_AGENT_LOCKED',
  /** The agent could not write its rendered files (permission, full disk); the previous files stay. */
  RENDER_FAILED: 'KS_ERR_RENDER_FAILED',
  /** A rollout marker kept with a secret has a shape keyshift does not write; it is ignored. */
  ROLLOUT_MARKER: 'KS_ERR_ROLLOUT_MARKER',
  /** A staged rotation waiting for its version's canary rollout found it halted: the fleet stepped back, the rotation failed and its cleanup does not run. */
  ROLLOUT_HALTED: 'KS_ERR_ROLLOUT_HALTED',
  /** An optional peer dependency that this part of keyshift needs is not installed (the message has the npm install command). */
  PEER_MISSING: 'KS_ERR_PEER_MISSING',
  /** An unexpected failure inside keyshift or a user callback. */
  INTERNAL: 'KS_ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface KeyshiftErrorOptions {
  /** The entry the error is about, when there is one. */
  entry?: string;
  /** The underlying error. Keep it free of values: sources re-wrap SDK errors. */
  cause?: unknown;
  /** Extra, value-free facts (resource path, version, HTTP status). */
  details?: Readonly<Record<string, string | number | boolean>>;
}

/** Base of every error keyshift throws or emits. */
export class KeyshiftError extends Error {
  readonly code: ErrorCode;
  readonly entry: string | undefined;
  readonly details: Readonly<Record<string, string | number | boolean>>;

  constructor(code: ErrorCode, message: string, options: KeyshiftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KeyshiftError';
    this.code = code;
    this.entry = options.entry;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }

  /** A JSON view with code, message and entry: safe to log or return over HTTP. */
  toJSON(): { code: ErrorCode; message: string; entry?: string } {
    return this.entry === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, entry: this.entry };
  }
}

/** Thrown by reads of a fail-closed entry past its maxStaleMs. Carries no value. */
export class StaleSecretError extends KeyshiftError {
  readonly ageMs: number;
  constructor(entry: string, ageMs: number, maxStaleMs: number) {
    super(
      ErrorCodes.STALE,
      `entry ${entry} is ${Math.round(ageMs)} ms old, past its maxStaleMs of ${maxStaleMs} ms, and fails closed`,
      { entry, details: { ageMs: Math.round(ageMs), maxStaleMs } },
    );
    this.name = 'StaleSecretError';
    this.ageMs = ageMs;
  }
}

/** Thrown when a declaration breaks a policy rule. */
export class PolicyError extends KeyshiftError {
  readonly rule: string;
  constructor(entry: string, rule: string, message: string) {
    super(ErrorCodes.POLICY, `entry ${entry} breaks policy rule "${rule}": ${message}`, {
      entry,
      details: { rule },
    });
    this.name = 'PolicyError';
    this.rule = rule;
  }
}

/** Codes after which a retry may succeed without anyone changing anything. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set([
  ErrorCodes.SOURCE_UNAVAILABLE,
  ErrorCodes.SOURCE_TIMEOUT,
  ErrorCodes.SOURCE_THROTTLED,
]);

/** True for failures worth retrying at startup (unavailable, timeout, throttled). */
export function isTransient(error: unknown): boolean {
  return error instanceof KeyshiftError && TRANSIENT.has(error.code);
}

/**
 * The class of a thrown error, for a message: its constructor's name, which is code,
 * never its `name` property, which is data anyone can set (a validator that does
 * `error.name = input` would otherwise put the value in the message). Anything that is
 * not a plain identifier is "Error".
 */
export function errorKind(error: Error): string {
  const name: unknown = Object.getPrototypeOf(error)?.constructor?.name;
  return typeof name === 'string' && /^[A-Za-z_$][\w$]{0,63}$/.test(name) ? name : 'Error';
}

/**
 * A stand-in `cause` for something user code threw while it held a value (a listener of
 * `change`, a rotator's step): the thrown thing's class and its stack frames (code
 * locations), never its message, `name`, properties or own cause, which can repeat the
 * value the code was handed.
 */
export function valueFreeCause(error: unknown): Error {
  const kind = error instanceof Error ? errorKind(error) : typeof error;
  const cause = new Error(`${kind} (its message is withheld: it may hold a value)`);
  const frames = error instanceof Error && typeof error.stack === 'string' ? error.stack.split('\n').filter((line) => /^\s+at /.test(line)) : [];
  cause.stack = [`Error: ${cause.message}`, ...frames].join('\n');
  return cause;
}

/**
 * Wraps anything thrown by a source or callback into a KeyshiftError without
 * copying its message (a third-party message may hold a credential, F4).
 */
export function toKeyshiftError(error: unknown, entry?: string): KeyshiftError {
  if (error instanceof KeyshiftError) return error;
  const kind = error instanceof Error ? errorKind(error) : typeof error;
  return new KeyshiftError(ErrorCodes.INTERNAL, `unexpected ${kind}${entry ? ` while loading ${entry}` : ''}`, {
    ...(entry === undefined ? {} : { entry }),
  });
}
