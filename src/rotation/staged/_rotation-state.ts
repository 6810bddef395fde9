/**
 * Where a staged rotation keeps its progress: in the store, never in a process.
 * A companion secret, `<NAME>__PENDING`, holds it: its versions are the pending values
 * (encrypted like any value, and never served by a reader of NAME's `latest`), and its
 * `extra.stagedRotation` the stage reached, the version of NAME it started from, the
 * lease of the runner working on it and the last failure. NAME itself only gets the
 * new version and its `current`/`previous` aliases: a write to NAME's metadata would
 * wake every instance watching it for nothing, and could hold back its refresh of the
 * new version by the core's minimum refresh interval.
 */
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { LocalStore, SecretInfo } from '../../local-store/index.ts';

/** The part of the local store a rotation uses. */
export type RotationStore = Pick<
  LocalStore,
  'getSecret' | 'createSecret' | 'updateSecret' | 'put' | 'access' | 'versions' | 'destroyVersion'
>;

/** The next step of a rotation: each runs after the previous one succeeded. */
export type RotationStage = 'create' | 'set' | 'test' | 'finish' | 'cleanup';

export const STAGES: readonly RotationStage[] = ['create', 'set', 'test', 'finish', 'cleanup'];

/** The last failure of a rotation: stage, code and a value-free message. */
export interface RotationFailure {
  stage: RotationStage;
  code: string;
  message: string;
  /** ISO time. */
  at: string;
}

/** `extra.stagedRotation` of the record secret. Names, numbers and times only. */
export interface RotationState {
  /** Random id of this rotation, the same across every attempt. */
  id: string;
  /** The rotator's kind ('random-secret', 'pg-password'...): only the same kind resumes it. */
  rotator: string;
  /** The stage the next attempt runs. */
  stage: RotationStage;
  /** The secret's latest version when the rotation started (0: none), moved on by each publish. */
  base: number;
  /** The version of `<NAME>__PENDING` holding the pending value, once created. */
  pending?: number;
  /** The version the finish stage added (the base from then on). */
  finished?: number;
  /** The version the finish stage replaced (0: none). */
  previous?: number;
  /** ISO time the rotation started. */
  startedAt: string;
  /** Wall-clock ms until which `holder` owns the rotation; 0 when released. */
  leaseUntil: number;
  /** Who holds (or last held) the lease: host, pid and a random suffix. */
  holder: string;
  /** Attempts so far, this one included. */
  attempts: number;
  /** Wall-clock ms before which the cleanup stage must not run (the overlap). */
  cleanupAfter?: number;
  /** With `adoption`: wall-clock ms the bake counts from after a halted rollout was resumed (instances start it again). */
  bakeFrom?: number;
  lastError?: RotationFailure;
}

/** `extra.lastRotation` of the record secret: what the last finished rotation did. */
export interface LastRotation {
  version: number;
  previous: number;
  rotator: string;
  /** ISO time. */
  at: string;
}

export const STATE_KEY = 'stagedRotation';
export const LAST_KEY = 'lastRotation';
const PENDING_SUFFIX = '__PENDING';
/** Secret Manager's (and the local store's) name limit. */
const MAX_NAME = 255;

/** The companion secret holding pending values of `name`; refuses a companion itself (its rotation would overwrite the record). */
export function pendingSecretName(name: string): string {
  if (isPendingSecret(name)) {
    const rotated = name.slice(0, -PENDING_SUFFIX.length);
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `secret ${name} holds the rotation record of ${rotated}: it is never rotated itself (rotate ${rotated})`, {
      entry: name,
    });
  }
  if (name.length + PENDING_SUFFIX.length > MAX_NAME) {
    throw new KeyshiftError(
      ErrorCodes.INVALID_DECLARATION,
      `secret ${name.slice(0, 40)}...: a rotated secret's name must leave room for the ${PENDING_SUFFIX} suffix (at most ${MAX_NAME - PENDING_SUFFIX.length} characters)`,
      { entry: name },
    );
  }
  return `${name}${PENDING_SUFFIX}`;
}

const isNotFound = (error: unknown): boolean => error instanceof KeyshiftError && error.code === ErrorCodes.SOURCE_NOT_FOUND;

/** The record (companion) secret of `name`'s rotations, or undefined when it never rotated. */
export async function readRecord(store: RotationStore, name: string): Promise<SecretInfo | undefined> {
  try {
    return await store.getSecret(pendingSecretName(name));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A secret's metadata, the secret made first when it does not exist (a first rotation makes its first version). */
export async function ensureSecret(store: RotationStore, name: string): Promise<SecretInfo> {
  try {
    return await store.getSecret(name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    try {
      return await store.createSecret(name);
    } catch (created) {
      if (created instanceof KeyshiftError && created.code === ErrorCodes.CONFLICT) return store.getSecret(name);
      throw created;
    }
  }
}

/** True for the companion secrets rotations keep their pending values in. */
export function isPendingSecret(name: string): boolean {
  return name.endsWith(PENDING_SUFFIX);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parseFailure(v: unknown): RotationFailure | undefined {
  if (!isRecord(v) || typeof v.stage !== 'string' || !STAGES.includes(v.stage as RotationStage)) return undefined;
  if (typeof v.code !== 'string' || typeof v.message !== 'string' || typeof v.at !== 'string') return undefined;
  return { stage: v.stage as RotationStage, code: v.code, message: v.message, at: v.at };
}

/**
 * The rotation under way on `info`, or undefined. A malformed record (another tool
 * wrote it) is a KS_ERR_STORE_CORRUPT naming the secret, never silently dropped.
 */
export function readState(info: SecretInfo): RotationState | undefined {
  const raw = info.extra[STATE_KEY];
  if (raw === undefined || raw === null) return undefined;
  const ok =
    isRecord(raw) &&
    typeof raw.id === 'string' &&
    typeof raw.rotator === 'string' &&
    STAGES.includes(raw.stage as RotationStage) &&
    isCount(raw.base) &&
    (raw.pending === undefined || isCount(raw.pending)) &&
    (raw.finished === undefined || isCount(raw.finished)) &&
    (raw.previous === undefined || isCount(raw.previous)) &&
    typeof raw.startedAt === 'string' &&
    typeof raw.leaseUntil === 'number' &&
    typeof raw.holder === 'string' &&
    isCount(raw.attempts) &&
    (raw.cleanupAfter === undefined || typeof raw.cleanupAfter === 'number') &&
    (raw.bakeFrom === undefined || typeof raw.bakeFrom === 'number');
  if (!ok) {
    throw new KeyshiftError(
      ErrorCodes.STORE_CORRUPT,
      `secret ${info.name}: extra.${STATE_KEY} is not a rotation record; inspect it with keyshift list --json, then run keyshift rotate ${info.name} --abandon`,
      { entry: info.name },
    );
  }
  const failure = parseFailure(raw.lastError);
  const { lastError: _dropped, ...rest } = raw as unknown as RotationState;
  return failure === undefined ? rest : { ...rest, lastError: failure };
}

/** The last finished rotation recorded on `info`, if any. */
export function readLastRotation(info: SecretInfo): LastRotation | undefined {
  const raw = info.extra[LAST_KEY];
  if (!isRecord(raw) || !isCount(raw.version) || !isCount(raw.previous)) return undefined;
  if (typeof raw.rotator !== 'string' || typeof raw.at !== 'string') return undefined;
  return { version: raw.version, previous: raw.previous, rotator: raw.rotator, at: raw.at };
}

/** `extra` with the rotation record replaced (or removed when `state` is undefined) and other keys kept. */
export function withState(info: SecretInfo, state: RotationState | undefined, last?: LastRotation): Record<string, unknown> {
  const { [STATE_KEY]: _old, ...rest } = info.extra;
  const extra: Record<string, unknown> = state === undefined ? rest : { ...rest, [STATE_KEY]: state };
  if (last !== undefined) extra[LAST_KEY] = last;
  return extra;
}
