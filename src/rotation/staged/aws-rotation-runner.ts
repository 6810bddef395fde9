/**
 * Staged rotation on AWS Secrets Manager, with AWS's own stage model (the one AWS's
 * rotation Lambdas follow) and keyshift's rotators:
 *
 * - create: the rotator's value is put with PutSecretValue, ClientRequestToken = the
 *   rotation id (a retry with the same token and value writes nothing), and moved to
 *   AWSPENDING by UpdateSecretVersionStage: the compare-and-swap that starts a rotation.
 * - set, test: the rotator's steps, given the AWSPENDING version's value.
 * - finish: UpdateSecretVersionStage moves AWSCURRENT to the pending version with
 *   RemoveFromVersionId = the version current when the rotation started, so AWS refuses
 *   it if anyone changed AWSCURRENT since; AWS then moves AWSPREVIOUS to the old one.
 * - cleanup: after the rotator's overlap, its cleanup; AWSPENDING is removed.
 *
 * The lock. AWS has no etag and no conditional write of metadata; the only
 * compare-and-swap is a staging label: a label attached to a version moves only when
 * RemoveFromVersionId names that version. So a new rotation starts only by moving
 * AWSPENDING onto its own version from where it was (nowhere, or the AWSCURRENT version):
 * of two runners starting at once, exactly one gets it, the other answers `busy` and
 * its version, left unlabelled, is deprecated. Progress (stage, attempts, last failure,
 * the version it started from) and a lease are kept in the secret's tags
 * (`keyshift:rotation*`, see _aws-rotation-record.ts). The lease is advisory: two runners
 * resuming the same failed rotation in the same second can both run its steps, but on
 * the same AWSPENDING value (the steps are idempotent), and only one finish can move
 * AWSCURRENT. A version labelled AWSPENDING that no keyshift record names (a rotation
 * Lambda's) is another runner: `busy`, until `abandon` removes the label.
 *
 * Rollback (`rollback()`): the value of AWSPREVIOUS (or a version number) becomes a new
 * version through the same stages: a new version, so instances that order by CreatedDate
 * (the source's default) serve it, which moving AWSCURRENT back to the old version would not do.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_ROTATION_LEASE_MS } from '../../constants.ts';
import { silentLogger, stderrLogger } from '../../core/logger.ts';
import { ErrorCodes, errorKind, KeyshiftError, valueFreeCause } from '../../errors.ts';
import type { Disposer, Logger } from '../../types.ts';
import { RotationEmitter } from '../_emitter.ts';
import {
  type AwsLastRotation,
  type AwsRotationState,
  lastTag,
  RECORD_TAGS,
  readAwsLast,
  readAwsState,
  stateTags,
  tagWord,
} from './_aws-rotation-record.ts';
import type { RotationStage } from './_rotation-state.ts';
import { sameBytes } from './_rotation-steps.ts';
import { AWS_CURRENT, AWS_PENDING, AWS_PREVIOUS, type AwsRotationStore, type AwsSecretState, type AwsVersion } from './aws-rotation-store.ts';
import type { RotationCondition } from './rotation-runner.ts';
import { refuseNeverRotated } from './rotation-runner.ts';
import type { RotationEvents, RotationResult } from './rotation-result.ts';
import type { PendingContext, RotationContext, RotationValue, Rotator } from './rotator.ts';
import { copyVersion } from './rotators/copy-version.ts';

export type { AwsLastRotation, AwsRotationState } from './_aws-rotation-record.ts';

/** The label a new version carries between its put and its move to AWSPENDING or AWSCURRENT (PutSecretValue needs one). */
export const AWS_CLAIM_STAGE = 'keyshift-claim';

export interface AwsRotationRunnerOptions {
  store: AwsRotationStore;
  /** How long a claim lasts without a stage renewing it. Default 300,000 ms. */
  leaseMs?: number;
  /** Pino-compatible logger, or false. Default: warnings and errors on stderr. */
  logger?: Logger | false;
  /** Called with every alert, besides `on('alert')` listeners. */
  onAlert?: (alert: RotationEvents['alert']) => void;
  /** Wall-clock ms. Default Date.now. */
  now?: () => number;
  /** Names this runner in the lease tag. Default `host:pid:random`. */
  holder?: string;
}

/** What `status()` reports: the labels, the rotation under way and the last one. */
export interface AwsRotationStatus {
  name: string;
  /** The AWSCURRENT version's number (N-th created), undefined when none. */
  latest: number | undefined;
  /** Staging label -> version number. */
  aliases: Record<string, number>;
  rotation: (AwsRotationState & { pendingVersion: number | undefined }) | null;
  /** A version labelled AWSPENDING that no keyshift record names (a rotation Lambda's). */
  foreignPending: { versionId: string; version: number } | null;
  lastRotation: AwsLastRotation | null;
}

export interface AwsRotationRunner {
  /** Runs (or resumes) the rotation of `name` as far as it can go now. Never rejects for a step failure: see `outcome`. */
  run(name: string, rotator: Rotator, condition?: RotationCondition, signal?: AbortSignal): Promise<RotationResult>;
  /** A rotation whose value is AWSPREVIOUS's (or version `to`'s), as a new version. */
  rollback(name: string, to?: number, signal?: AbortSignal): Promise<RotationResult>;
  /** Removes AWSPENDING from the pending version and the record; AWSCURRENT is untouched. */
  abandon(name: string): Promise<AwsRotationState | undefined>;
  status(name: string): Promise<AwsRotationStatus>;
  on<E extends keyof RotationEvents>(event: E, listener: (payload: RotationEvents[E]) => void): Disposer;
}

type StageResult = Omit<RotationResult, 'name' | 'durationMs'>;

const isCode = (error: unknown, code: string): boolean => error instanceof KeyshiftError && error.code === code;
const holding = (s: AwsSecretState, stage: string): AwsVersion | undefined => s.versions.find((v) => v.stages.includes(stage));
const bytesOf = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'utf8')) : value);
const numberOf = (s: AwsSecretState, id: string | undefined): number => (id === undefined ? 0 : (s.versions.find((v) => v.id === id)?.number ?? 0));

function view(version: number, bytes: Uint8Array): RotationValue {
  return { version, bytes, text: () => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') };
}

/** The version a rotator's finish value other than the pending one is put as: a token derived from the rotation id, so a re-run finds it. */
const finalToken = (id: string): string => {
  const h = createHash('sha256').update(`${id}:final`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};

function stepError(name: string, kind: string, stage: RotationStage, error: unknown): KeyshiftError {
  if (error instanceof KeyshiftError) return error;
  const what = error instanceof Error ? errorKind(error) : typeof error;
  return new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `the ${stage} step of the ${kind} rotator threw ${what}`, { entry: name, cause: valueFreeCause(error), details: { stage } });
}

export function createAwsRotationRunner(options: AwsRotationRunnerOptions): AwsRotationRunner {
  const logger = options.logger === false ? silentLogger : (options.logger ?? stderrLogger);
  const events = new RotationEmitter<RotationEvents>('the AWS rotation runner', logger, 'rotation');
  if (options.onAlert) events.on('alert', options.onAlert);
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? DEFAULT_ROTATION_LEASE_MS;
  const holder = tagWord(options.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`, 80);
  const { store } = options;

  async function describe(name: string): Promise<AwsSecretState> {
    try {
      return await store.describe(name);
    } catch (error) {
      if (!isCode(error, ErrorCodes.SOURCE_NOT_FOUND)) throw error;
      await store.createSecret(name).catch((created: unknown) => {
        if (!isCode(created, ErrorCodes.CONFLICT)) throw created;
      });
      return store.describe(name);
    }
  }

  /** The version labelled AWSPENDING that is not AWSCURRENT: a rotation under way. */
  const pendingOf = (s: AwsSecretState): AwsVersion | undefined => {
    const v = holding(s, AWS_PENDING);
    return v === undefined || v.stages.includes(AWS_CURRENT) ? undefined : v;
  };

  const save = async (name: string, state: AwsRotationState): Promise<AwsRotationState> => {
    await store.tag(name, stateTags(state));
    return state;
  };

  async function run(name: string, rotator: Rotator, condition: RotationCondition = {}, signal?: AbortSignal): Promise<RotationResult> {
    const started = performance.now();
    const done = (result: StageResult): RotationResult => ({ name, ...result, durationMs: performance.now() - started });
    refuseNeverRotated(name);
    const kind = tagWord(rotator.kind, 40);
    const s = await describe(name);
    const recorded = readAwsState(name, s.tags);
    const current = holding(s, AWS_CURRENT);
    const pending = pendingOf(s);
    const abort = signal ?? new AbortController().signal;
    if (recorded === undefined) {
      if (pending !== undefined) {
        return done({ outcome: 'busy', rotationId: pending.id, stage: 'set', heldBy: `AWSPENDING on version ${pending.number}, not a keyshift rotation (a rotation Lambda?)` });
      }
      if (condition.ifLatest !== undefined && condition.ifLatest !== (current?.number ?? 0)) return done({ outcome: 'skipped', version: current?.number ?? 0 });
      if (condition.ifUnrotatedSince !== undefined && current !== undefined && Date.parse(current.created) >= condition.ifUnrotatedSince) {
        return done({ outcome: 'skipped', version: current.number });
      }
      const state: AwsRotationState = {
        id: randomUUID(),
        rotator: kind,
        stage: 'create',
        base: current?.id,
        attempts: 1,
        startedAt: new Date(now()).toISOString(),
        holder,
        leaseUntil: now() + leaseMs,
      };
      return done(await stages(name, state, rotator, abort));
    }
    if (recorded.leaseUntil > now() && recorded.holder !== holder) {
      return done({ outcome: 'busy', rotationId: recorded.id, stage: recorded.stage, heldBy: recorded.holder, retryAt: recorded.leaseUntil });
    }
    if (recorded.rotator !== kind) {
      const message = `a ${recorded.rotator} rotation of ${name} is under way (stage ${recorded.stage}); resume it with the same rotator, or drop it with keyshift rotate ${name} --abandon`;
      return done({ outcome: 'failed', rotationId: recorded.id, stage: recorded.stage, error: new KeyshiftError(ErrorCodes.ROTATION_REFUSED, message, { entry: name }) });
    }
    if (recorded.stage !== 'cleanup' && holding(s, AWS_PENDING)?.id !== recorded.id) {
      const message = `the rotation record of ${name} names a pending version that no longer holds AWSPENDING (moved by hand or by another tool); drop it with keyshift rotate ${name} --abandon`;
      return done({ outcome: 'failed', rotationId: recorded.id, stage: recorded.stage, error: new KeyshiftError(ErrorCodes.ROTATION_REFUSED, message, { entry: name }) });
    }
    if (recorded.stage === 'cleanup' && (recorded.cleanupAfter ?? 0) > now()) {
      const version = numberOf(s, recorded.final ?? recorded.id);
      return done({ outcome: 'waiting', rotationId: recorded.id, stage: 'cleanup', version, previousVersion: numberOf(s, recorded.base), retryAt: recorded.cleanupAfter });
    }
    // Resume: claim the lease (advisory: tags have no condition), then read it back.
    const claimed = await save(name, { ...recorded, holder, leaseUntil: now() + leaseMs, attempts: recorded.attempts + 1 });
    const check = readAwsState(name, (await store.describe(name)).tags);
    if (check?.id !== claimed.id || check.holder !== holder) {
      return done({ outcome: 'busy', rotationId: recorded.id, stage: recorded.stage, heldBy: check?.holder ?? 'another runner', retryAt: check?.leaseUntil ?? 0 });
    }
    return done(await stages(name, claimed, rotator, abort));
  }

  async function stages(name: string, first: AwsRotationState, rotator: Rotator, signal: AbortSignal): Promise<StageResult> {
    let state = first;
    const held: Uint8Array[] = [];
    const read = async (versionId: string): Promise<RotationValue> => {
      const { value, version } = await store.readVersion(name, versionId);
      held.push(value);
      return view(version, value);
    };
    const renew = async (patch: Partial<AwsRotationState>): Promise<void> => {
      state = await save(name, { ...state, ...patch, leaseUntil: now() + leaseMs });
    };

    /** Puts `value` as a version of its own (labelled keyshift-claim) and moves AWSCURRENT to it from `from`: conditional, as a finish. */
    const promote = async (value: Uint8Array, token: string, from: string | undefined): Promise<string> => {
      const id = await store.putVersion(name, value, token, [AWS_CLAIM_STAGE]);
      await makeCurrent(id, from);
      await store.moveStage(name, AWS_CLAIM_STAGE, { removeFrom: id }).catch(() => undefined);
      return id;
    };
    const makeCurrent = async (id: string, from: string | undefined): Promise<void> => {
      try {
        await store.moveStage(name, AWS_CURRENT, { moveTo: id, ...(from === undefined ? {} : { removeFrom: from }) });
      } catch (error) {
        if (!isCode(error, ErrorCodes.CONFLICT)) throw error;
        const now = holding(await store.describe(name), AWS_CURRENT);
        if (now?.id === id) return; // our own move, re-run after a crash
        throw new KeyshiftError(
          ErrorCodes.CONFLICT,
          `secret ${name} changed (AWSCURRENT is version ${now?.number ?? 'none'}) while its rotation was at stage ${state.stage}; the rotation stops and its pending value is dropped`,
          { entry: name, cause: error },
        );
      }
    };

    const context = async (): Promise<RotationContext> => ({
      name,
      rotationId: state.id,
      attempt: state.attempts,
      current: state.base === undefined ? undefined : await read(state.base),
      store,
      signal,
      logger,
      async publish(value) {
        const id = await promote(bytesOf(value), randomUUID(), state.base);
        await renew({ base: id });
        return numberOf(await store.describe(name), id);
      },
    });
    const pendingContext = async (): Promise<PendingContext> => ({ ...(await context()), pending: await read(state.id) });

    let stage: RotationStage = state.stage;
    try {
      for (;;) {
        if (signal.aborted) throw new KeyshiftError(ErrorCodes.CLOSED, `the rotation of ${name} was stopped before stage ${stage}`, { entry: name });
        const t0 = performance.now();
        if (stage === 'create') {
          const value = bytesOf(await rotator.create(await context()));
          held.push(value);
          const id = await store.putVersion(name, value, state.id, [AWS_CLAIM_STAGE]);
          const pendingHolder = holding(await store.describe(name), AWS_PENDING);
          try {
            // The start's compare-and-swap: AWSPENDING moves from where it was seen (nowhere, or the current version) to ours.
            if (pendingHolder !== undefined && !pendingHolder.stages.includes(AWS_CURRENT)) throw new KeyshiftError(ErrorCodes.CONFLICT, 'AWSPENDING is taken');
            await store.moveStage(name, AWS_PENDING, { moveTo: id, ...(pendingHolder === undefined ? {} : { removeFrom: pendingHolder.id }) });
          } catch (error) {
            if (!isCode(error, ErrorCodes.CONFLICT)) throw error;
            await store.moveStage(name, AWS_CLAIM_STAGE, { removeFrom: id }).catch(() => undefined);
            const other = readAwsState(name, (await store.describe(name)).tags);
            return { outcome: 'busy', rotationId: other?.id ?? pendingHolder?.id ?? '', stage: other?.stage ?? 'set', heldBy: other?.holder ?? 'another runner', retryAt: other?.leaseUntil ?? 0 };
          }
          try {
            await renew({ stage: 'set' });
          } catch (error) {
            // Without its record the pending version would look like another tool's: give AWSPENDING back.
            await store.moveStage(name, AWS_PENDING, { removeFrom: id }).catch(() => undefined);
            throw error;
          }
          await store.moveStage(name, AWS_CLAIM_STAGE, { removeFrom: id }).catch(() => undefined);
        } else if (stage === 'set') {
          await rotator.set?.(await pendingContext());
          await renew({ stage: 'test' });
        } else if (stage === 'test') {
          await rotator.test?.(await pendingContext());
          await renew({ stage: 'finish' });
        } else if (stage === 'finish') {
          const ctx = await pendingContext();
          const chosen = await rotator.finish?.(ctx);
          const value = chosen === undefined ? undefined : bytesOf(chosen);
          let final = state.id;
          if (value !== undefined && !sameBytes(value, ctx.pending.bytes)) final = await promote(value, finalToken(state.id), state.base);
          else await makeCurrent(state.id, state.base);
          const cleanupAfter = now() + (rotator.cleanupAfterMs ?? 0);
          await renew({ stage: 'cleanup', final, cleanupAfter });
          const s = await store.describe(name);
          const version = numberOf(s, final);
          const previousVersion = numberOf(s, state.base);
          logger.info({ secret: name, rotationId: state.id, version, previousVersion }, 'a rotation made its new version AWSCURRENT');
          events.emit('finished', { name, rotationId: state.id, version, previousVersion, attempts: state.attempts, durationMs: performance.now() - t0 });
        } else {
          const s = await store.describe(name);
          const version = numberOf(s, state.final ?? state.id);
          const previousVersion = numberOf(s, state.base);
          if (rotator.cleanup !== undefined) {
            if ((state.cleanupAfter ?? 0) > now()) {
              state = await save(name, { ...state, leaseUntil: 0 });
              return { outcome: 'waiting', rotationId: state.id, stage, version, previousVersion, retryAt: state.cleanupAfter, attempts: state.attempts };
            }
            const ctx = await pendingContext();
            await rotator.cleanup({ ...ctx, version, previousVersion, previous: state.base === undefined ? undefined : await read(state.base) });
          }
          if (holding(s, AWS_PENDING)?.id === state.id) await store.moveStage(name, AWS_PENDING, { removeFrom: state.id }).catch(() => undefined);
          await store.tag(name, lastTag({ rotator: state.rotator, version: state.final ?? state.id, previous: state.base, at: new Date(now()).toISOString() }));
          await store.untag(name, RECORD_TAGS);
          events.emit('stage', { name, rotationId: state.id, stage, durationMs: performance.now() - t0 });
          return { outcome: 'finished', rotationId: state.id, stage, version, previousVersion, attempts: state.attempts };
        }
        events.emit('stage', { name, rotationId: state.id, stage, durationMs: performance.now() - t0 });
        stage = state.stage;
      }
    } catch (error) {
      return fail(name, state, rotator, stage, stepError(name, rotator.kind, stage, error));
    } finally {
      for (const bytes of held) bytes.fill(0);
    }
  }

  /** Records the failure and releases the lease (or drops the rotation after a conflict at finish), raises the alert. */
  async function fail(name: string, state: AwsRotationState, rotator: Rotator, stage: RotationStage, error: KeyshiftError): Promise<StageResult> {
    const dropped = error.code === ErrorCodes.CONFLICT && stage === 'finish';
    try {
      if (dropped) await dropRecord(name, state.id);
      else if (stage !== 'create') await save(name, { ...state, leaseUntil: 0, lastError: { stage, code: error.code, at: new Date(now()).toISOString() } });
    } catch (recordError) {
      logger.warn({ secret: name, rotationId: state.id, code: (recordError as { code?: unknown }).code }, 'a failed rotation could not record its failure');
    }
    const then = dropped ? 'the rotation was dropped' : stage === 'create' ? 'the next attempt starts again' : `the next attempt resumes at stage ${stage}`;
    const message = `rotation of ${name} (${rotator.kind}) failed at stage ${stage}, attempt ${state.attempts} (${error.code}: ${error.message}); AWSCURRENT stays in service and ${then}`;
    logger.error({ secret: name, rotationId: state.id, stage, code: error.code, attempts: state.attempts }, message);
    events.emit('failed', { name, rotationId: state.id, stage, attempts: state.attempts, error });
    events.emit('alert', { name, rotationId: state.id, stage, code: error.code, message });
    return { outcome: 'failed', rotationId: state.id, stage, error, attempts: state.attempts };
  }

  /** AWSPENDING off the pending version (when it is still there), and the record tags removed. */
  async function dropRecord(name: string, pendingId: string | undefined): Promise<void> {
    const s = await store.describe(name);
    const pending = holding(s, AWS_PENDING);
    if (pending !== undefined && (pendingId === undefined || pending.id === pendingId)) {
      await store.moveStage(name, AWS_PENDING, { removeFrom: pending.id }).catch((error: unknown) => {
        if (!isCode(error, ErrorCodes.CONFLICT)) throw error;
      });
    }
    await store.untag(name, RECORD_TAGS);
  }

  async function abandon(name: string): Promise<AwsRotationState | undefined> {
    const s = await store.describe(name);
    let state: AwsRotationState | undefined;
    let corrupt = false;
    try {
      state = readAwsState(name, s.tags);
    } catch (error) {
      if (!isCode(error, ErrorCodes.STORE_CORRUPT)) throw error;
      corrupt = true; // a record another tool wrote: abandon is the way out the error names
    }
    const pending = pendingOf(s);
    if (state === undefined && pending === undefined && !corrupt) return undefined;
    await dropRecord(name, state?.id ?? pending?.id);
    const dropped: AwsRotationState = state ?? {
      id: pending?.id ?? '',
      rotator: 'unknown',
      stage: 'set',
      base: holding(s, AWS_CURRENT)?.id,
      attempts: 0,
      startedAt: pending?.created ?? new Date(now()).toISOString(),
      holder: '',
      leaseUntil: 0,
    };
    logger.warn({ secret: name, rotationId: dropped.id, stage: dropped.stage }, 'a rotation was abandoned; AWSCURRENT stays');
    return dropped;
  }

  async function status(name: string): Promise<AwsRotationStatus> {
    const s = await store.describe(name);
    const state = readAwsState(name, s.tags);
    const pending = pendingOf(s);
    const aliases: Record<string, number> = {};
    for (const v of s.versions) for (const stage of v.stages) aliases[stage] = v.number;
    return {
      name,
      latest: holding(s, AWS_CURRENT)?.number,
      aliases,
      rotation: state === undefined ? null : { ...state, pendingVersion: s.versions.find((v) => v.id === state.id)?.number },
      foreignPending: state === undefined && pending !== undefined ? { versionId: pending.id, version: pending.number } : null,
      lastRotation: readAwsLast(s.tags) ?? null,
    };
  }

  return {
    run,
    rollback: (name, to, signal) => run(name, copyVersion(to ?? AWS_PREVIOUS), {}, signal),
    abandon,
    status,
    on: (event, listener) => events.on(event, listener),
  };
}
