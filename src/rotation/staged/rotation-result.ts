/** What a rotation run reports: its outcome, its result, and the runner's events. */
import type { KeyshiftError } from '../../errors.ts';
import type { RotationStage } from './_rotation-state.ts';

/** Why a run did nothing, or how it ended. */
export type RotationOutcome =
  /** A new version is served (and the cleanup, if any, ran or is scheduled). */
  | 'finished'
  /** The new version is put; the cleanup waits for its overlap to pass, or (with `adoption`) for the fleet to adopt it (`retryAt`, `waitingFor`). */
  | 'waiting'
  /** Another runner holds the rotation's lease (`heldBy`, `retryAt`). */
  | 'busy'
  /** The condition was not met: the secret was rotated since (`version`). */
  | 'skipped'
  /**
   * A step failed (`stage`, `error`); the current version stays, the next run resumes there. With `adoption`, also
   * a halted rollout of the new version (`KS_ERR_ROLLOUT_HALTED`, stage `cleanup`): the fleet serves the previous one.
   */
  | 'failed';

export interface RotationResult {
  name: string;
  outcome: RotationOutcome;
  rotationId?: string;
  /** The stage that failed, or the stage reached. */
  stage?: RotationStage;
  /** The version now served (finished, waiting), or the one that made the run skip. */
  version?: number;
  previousVersion?: number;
  attempts?: number;
  error?: KeyshiftError;
  heldBy?: string;
  /** Wall-clock ms when a run can do more (busy: the lease ends; waiting: the overlap ends, or the bake). */
  retryAt?: number;
  /** What a `waiting` rotation waits for: the cleanup's overlap, or the fleet's adoption of the new version (its canary bake). */
  waitingFor?: 'overlap' | 'adoption';
  durationMs: number;
}

/** What a runner reports; no payload carries a value. */
export interface RotationEvents {
  /** A stage completed. */
  stage: { name: string; rotationId: string; stage: RotationStage; durationMs: number };
  /** A new version is served. */
  finished: { name: string; rotationId: string; version: number; previousVersion: number; attempts: number; durationMs: number };
  /** A step failed; the current version stays in service. */
  failed: { name: string; rotationId: string; stage: RotationStage; attempts: number; error: KeyshiftError };
  /** The one alert per failed attempt: what happened and what to do. */
  alert: { name: string; rotationId: string; stage: RotationStage; code: string; message: string };
}
