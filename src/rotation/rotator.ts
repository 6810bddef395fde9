/**
 * Staged rotation, the way AWS rotation functions work: a rotator creates the next
 * value, sets it where it must be accepted (ALTER ROLE, a verify-only key), tests it
 * (a real login, a real signature check), and the runner finishes: the new version is
 * put, conditionally, and every reader of `latest` serves it. A step that fails leaves
 * the current version current and untouched, raises an alert, and the next attempt, from
 * any process, resumes at the stage it stopped at: the progress lives in the store.
 *
 *   const runner = createRotationRunner({ store });
 *   const result = await runner.run('WEBHOOK_SECRET', randomSecret({ length: 48 }));
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_ROTATION_LEASE_MS } from '../constants.ts';
import { stderrLogger, silentLogger } from '../core/logger.ts';
import { DEFAULT_POLICY } from '../core/policy.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Disposer, Logger } from '../types.ts';
import { RotationEmitter } from './_emitter.ts';
import { RotationLease } from './_rotation-lock.ts';
import {
  ensureSecret,
  pendingSecretName,
  type RotationStage,
  type RotationState,
  type RotationStore,
  readRecord,
  readState,
} from './_rotation-state.ts';
import { type RotationSteps, runStages } from './_rotation-steps.ts';

export type { LastRotation, RotationFailure, RotationStage, RotationState, RotationStore } from './_rotation-state.ts';
export { isPendingSecret, pendingSecretName, readLastRotation, readRecord, readState } from './_rotation-state.ts';

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

/** When a new rotation may start. A rotation already under way always resumes. */
export interface RotationCondition {
  /** Start only if the latest version is still this one (0: no version). */
  ifLatest?: number;
  /** Start only if the latest version was created before this wall-clock time (ms). */
  ifUnrotatedSince?: number;
}

export interface RotationRunnerOptions {
  /** The store the rotated secrets live in (a LocalStore). */
  store: RotationStore;
  /** How long a claim lasts without a stage renewing it. Default 300,000 ms (DEFAULT_ROTATION_LEASE_MS). */
  leaseMs?: number;
  /** Pino-compatible logger, or false. Default: warnings and errors on stderr. */
  logger?: Logger | false;
  /** Called with every alert, besides `on('alert')` listeners. Default: none. */
  onAlert?: (alert: RotationEvents['alert']) => void;
  /** Wall-clock ms, for leases and records. Default Date.now. */
  now?: () => number;
  /** Names this runner in lease records. Default `host:pid:random`. */
  holder?: string;
}

export interface RotationRunner {
  /** Runs (or resumes) the rotation of `name` as far as it can go now. Never rejects for a step failure: see `outcome`. */
  run(name: string, rotator: Rotator, condition?: RotationCondition, signal?: AbortSignal): Promise<RotationResult>;
  /** Drops a rotation under way: its record, and its pending value (destroyed). The current version is untouched. */
  abandon(name: string): Promise<RotationState | undefined>;
  on<E extends keyof RotationEvents>(event: E, listener: (payload: RotationEvents[E]) => void): Disposer;
}

export function createRotationRunner(options: RotationRunnerOptions): RotationRunner {
  const logger = options.logger === false ? silentLogger : (options.logger ?? stderrLogger);
  const events = new RotationEmitter<RotationEvents>('the rotation runner', logger);
  if (options.onAlert) events.on('alert', options.onAlert);
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? DEFAULT_ROTATION_LEASE_MS;
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const { store } = options;
  const steps: RotationSteps = { store, events, logger, now };

  async function run(name: string, rotator: Rotator, condition: RotationCondition = {}, signal?: AbortSignal): Promise<RotationResult> {
    const started = performance.now();
    const done = (result: Omit<RotationResult, 'name' | 'durationMs'>): RotationResult => ({ name, ...result, durationMs: performance.now() - started });
    refuseNeverRotated(name);
    const recordName = pendingSecretName(name); // refuses names without room for the companion before touching anything
    // A few rounds: a lost claim race re-reads and decides again (the winner's lease then shows).
    for (let round = 0; round < 5; round++) {
      const info = await ensureSecret(store, name);
      const record = await ensureSecret(store, recordName);
      const state = readState(record);
      if (state === undefined) {
        const skip = await unmet(store, name, info.latest, condition);
        if (skip !== undefined) return done({ outcome: 'skipped', version: skip });
      } else {
        if (state.leaseUntil > now()) return done({ outcome: 'busy', rotationId: state.id, stage: state.stage, heldBy: state.holder, retryAt: state.leaseUntil });
        if (state.rotator !== rotator.kind) {
          const message = `a ${state.rotator} rotation of ${name} is under way (stage ${state.stage}); resume it with the same rotator, or drop it with keyshift rotate ${name} --abandon`;
          const error = new KeyshiftError(ErrorCodes.ROTATION_REFUSED, message, { entry: name });
          return done({ outcome: 'failed', rotationId: state.id, stage: state.stage, error });
        }
        if (state.stage === 'cleanup' && (state.cleanupAfter ?? 0) > now()) {
          return done({ outcome: 'waiting', rotationId: state.id, stage: 'cleanup', ...finishedVersions(state), retryAt: state.cleanupAfter });
        }
      }
      const next: RotationState = state
        ? { ...state, holder, attempts: state.attempts + 1 }
        : { id: randomBytes(8).toString('hex'), rotator: rotator.kind, stage: 'create', base: info.latest ?? 0, startedAt: new Date(now()).toISOString(), leaseUntil: 0, holder, attempts: 1 };
      const lease = await RotationLease.claim(store, record, next, leaseMs, now);
      if (lease === undefined) continue;
      return done(await runStages(steps, name, lease, rotator, signal ?? new AbortController().signal));
    }
    const error = new KeyshiftError(ErrorCodes.CONFLICT, `the rotation record of ${name} kept changing while a rotation tried to start; try again`, { entry: name });
    return done({ outcome: 'failed', stage: 'create', error });
  }

  async function abandon(name: string): Promise<RotationState | undefined> {
    for (let round = 0; round < 5; round++) {
      const record = await readRecord(store, name);
      const state = record && readState(record);
      if (record === undefined || state === undefined) return undefined;
      const lease = await RotationLease.claim(store, record, { ...state, holder }, leaseMs, now);
      if (lease === undefined) continue;
      await lease.clear();
      if (state.pending !== undefined) await store.destroyVersion(pendingSecretName(name), state.pending).catch(() => undefined);
      logger.warn({ secret: name, rotationId: state.id, stage: state.stage }, 'a rotation was abandoned; the current version stays');
      return state;
    }
    throw new KeyshiftError(ErrorCodes.CONFLICT, `secret ${name} kept changing while its rotation was being abandoned; try again`, { entry: name });
  }

  return { run, abandon, on: (event, listener) => events.on(event, listener) };
}

function finishedVersions(state: RotationState): { version?: number; previousVersion?: number } {
  return state.finished === undefined ? {} : { version: state.finished, previousVersion: state.previous ?? 0 };
}

/** The version that makes a new rotation unnecessary, or undefined when it may start. */
async function unmet(store: RotationStore, name: string, latest: number | undefined, condition: RotationCondition): Promise<number | undefined> {
  const version = latest ?? 0;
  if (condition.ifLatest !== undefined && condition.ifLatest !== version) return version;
  if (condition.ifUnrotatedSince !== undefined && version > 0) {
    const newest = (await store.versions(name)).find((v) => v.version === version);
    if (newest !== undefined && Date.parse(newest.createTime) >= condition.ifUnrotatedSince) return version;
  }
  return undefined;
}

/** A name the default policy lets no rotation take over (`*_PRIVATE_KEY`: a new wallet key is a new wallet) is refused. */
export function refuseNeverRotated(name: string): void {
  const rule = DEFAULT_POLICY.find((r) => r.allowRotation.length === 0 && (r.name?.test(name) ?? false));
  if (rule !== undefined) {
    throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `secret ${name} is never rotated by keyshift (policy ${rule.id}): ${rule.description}`, { entry: name });
  }
}

/** Constant-time equality of two values (a finish that crashed after its put is recognised by its value). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
