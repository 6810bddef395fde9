/** What a rotation run reports: its outcome, its result, and the runner's events. */
import type { KeyshiftError } from '../../errors.ts';
import type { RotationStage } from './_rotation-state.ts';

/** Why a run did nothing, or how it ended. */
export type RotationOutcome =
  /** A new version is served (and the cleanup, if any, ran or is scheduled). */
  | 'finished'
  /** The new version is served; the cleanup waits for its overlap to pass (`retryAt`). */
  | 'waiting'
  /** Another runner holds the rotation's lease (`heldBy`, `retryAt`). */
  | 'busy'
  /** The condition was not met: the secret was rotated since (`version`). */
  | 'skipped'
  /** A step failed (`stage`, `error`); the current version stays, the next run resumes there. */
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
  /** Wall-clock ms when a run can do more (busy: the lease ends; waiting: the overlap ends). */
  retryAt?: number;
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
