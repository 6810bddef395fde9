/**
 * The contract of a rotator: the steps one kind of rotation takes (create, set, test,
 * finish, cleanup) and what each step is given. The runner (`rotation-runner.ts`) calls
 * them; the built-in rotators are in `rotators/`.
 */
import type { Logger } from '../../types.ts';
import type { RotationStore } from './_rotation-state.ts';

/** A version's value, decoded on demand. Do not keep it past the step. */
export interface RotationValue {
  readonly version: number;
  readonly bytes: Uint8Array;
  /** The bytes as UTF-8 text. */
  text(): string;
}

export interface RotationContext {
  /** The secret being rotated. */
  readonly name: string;
  /** Stable across every attempt of this rotation. */
  readonly rotationId: string;
  /** 1 for the first attempt, 2 for the first retry... */
  readonly attempt: number;
  /** The version served when the rotation started (after any publish); undefined when the secret had none. */
  readonly current: RotationValue | undefined;
  /** The store, for rotators that keep a companion entry (the role of alternating users). */
  readonly store: RotationStore;
  /** Aborted when the runner is closed or the caller gives up. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /**
   * Puts a version that readers serve at once (a keyring with a verify-only key added),
   * conditional on nobody else having written since. Resolves its number; the rotation's
   * base moves to it.
   */
  publish(value: Uint8Array | string): Promise<number>;
}

export interface PendingContext extends RotationContext {
  /** The value the create step made, read back from the store. */
  readonly pending: RotationValue;
}

/** The cleanup stage's context: `current` is the version the finish put. */
export interface FinishedContext extends PendingContext {
  /** The version the finish stage put. */
  readonly version: number;
  /** The version it replaced (0: none). */
  readonly previousVersion: number;
  /** The value it replaced (the old credential to revoke); undefined when none, or disabled since. */
  readonly previous: RotationValue | undefined;
}

/**
 * The steps of one kind of rotation. Every step may run more than once (a retry
 * resumes at the step that failed), so each must be idempotent. A step signals
 * failure by throwing; a KeyshiftError keeps its code, anything else is wrapped.
 */
export interface Rotator {
  /** A short fixed name ('random-secret', 'pg-password'): only the same kind resumes a rotation. */
  readonly kind: string;
  /** Makes the next value. It is stored encrypted as pending; no reader serves it yet. */
  create(ctx: RotationContext): Promise<Uint8Array | string>;
  /** Makes the pending value accepted where it is checked. Default: nothing to do. */
  set?(ctx: PendingContext): Promise<void>;
  /** Proves the pending value works. Default: nothing to prove. */
  test?(ctx: PendingContext): Promise<void>;
  /** Runs just before the new version is put; may return the value to put instead of the pending one (deterministically). */
  finish?(ctx: PendingContext): Promise<Uint8Array | string | undefined>;
  /**
   * True when `latest` is what this rotation's finish put: a finish re-run after a crash
   * finds its own version. Default: the same bytes as the value the finish would put
   * (give this when `finish` makes a value with a time in it).
   */
  recognise?(latest: RotationValue, ctx: PendingContext): boolean;
  /** Runs `cleanupAfterMs` after the finish: revoke the old credential, retire the old key. */
  cleanup?(ctx: FinishedContext): Promise<void>;
  /** The overlap before cleanup, in ms. Default 0. */
  readonly cleanupAfterMs?: number;
}
