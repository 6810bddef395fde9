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
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_ROTATION_LEASE_MS } from '../../constants.ts';
import { stderrLogger, silentLogger } from '../../core/logger.ts';
import { DEFAULT_POLICY } from '../../core/policy.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { Disposer, Logger } from '../../types.ts';
import { RotationEmitter } from '../_emitter.ts';
import { bakingUntil, checkRotationAdoption, type RotationAdoption } from './_rotation-adoption.ts';
import { RotationLease } from './_rotation-lock.ts';
import {
  ensureSecret,
  pendingSecretName,
  type RotationState,
  type RotationStore,
  readRecord,
  readState,
} from './_rotation-state.ts';
import { type RotationSteps, runStages } from './_rotation-steps.ts';
import type { RotationEvents, RotationResult } from './rotation-result.ts';
import type { Rotator } from './rotator.ts';

export type { AdoptionVerdict, RotationAdoption } from './_rotation-adoption.ts';
export type { LastRotation, RotationFailure, RotationStage, RotationState, RotationStore } from './_rotation-state.ts';
export type { RotationEvents, RotationOutcome, RotationResult } from './rotation-result.ts';
export type { FinishedContext, PendingContext, RotationContext, RotationValue, Rotator } from './rotator.ts';
export { isPendingSecret, pendingSecretName, readLastRotation, readRecord, readState } from './_rotation-state.ts';

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
  /**
   * For secrets whose entry rolls out by canary (docs/adoption.md): the rotation finishes (and its
   * cleanup runs) only once the fleet has adopted the new version (outcome `waiting` until then),
   * and a halted rollout fails it (KS_ERR_ROLLOUT_HALTED). One policy for every secret, or one per
   * secret name (undefined: no wait). Default: none, the rotation finishes at its put as before.
   */
  adoption?: RotationAdoption | ((name: string) => RotationAdoption | undefined);
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
  const events = new RotationEmitter<RotationEvents>('the rotation runner', logger, 'rotation');
  if (options.onAlert) events.on('alert', options.onAlert);
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? DEFAULT_ROTATION_LEASE_MS;
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const { store } = options;
  const { adoption } = options;
  if (adoption !== undefined && typeof adoption !== 'function') checkRotationAdoption(adoption);
  const adoptionFor = (name: string): Required<RotationAdoption> | undefined => {
    const policy = typeof adoption === 'function' ? adoption(name) : adoption;
    return policy === undefined ? undefined : checkRotationAdoption(policy);
  };
  const steps: RotationSteps = { store, events, logger, now, ...(adoption === undefined ? {} : { adoption: adoptionFor }) };

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
        const policy = state.stage === 'cleanup' ? adoptionFor(name) : undefined;
        if (policy !== undefined) {
          // still baking: answered from reads alone (a scheduler asks every minute); a halted rollout is reported now, not after the overlap
          const until = await bakingUntil(store, name, state, policy, now(), rotator.cleanup !== undefined);
          if (until !== undefined) return done({ outcome: 'waiting', waitingFor: 'adoption', rotationId: state.id, stage: 'cleanup', ...finishedVersions(state), retryAt: until });
        } else if (state.stage === 'cleanup' && (state.cleanupAfter ?? 0) > now()) {
          return done({ outcome: 'waiting', waitingFor: 'overlap', rotationId: state.id, stage: 'cleanup', ...finishedVersions(state), retryAt: state.cleanupAfter });
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

