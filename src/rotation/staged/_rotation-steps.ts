/**
 * The stages of one claimed rotation, in order, from the one recorded in the store:
 * create (the pending value is stored in `<NAME>__PENDING`), set, test, finish (the
 * conditional put that every reader serves), cleanup (after the overlap). Each stage
 * is recorded before the next starts; a failure is recorded with its stage and the
 * lease released, so any process resumes there.
 */
import { timingSafeEqual } from 'node:crypto';
import { ErrorCodes, errorKind, KeyshiftError, valueFreeCause } from '../../errors.ts';
import type { Logger } from '../../types.ts';
import type { RotationEmitter } from '../_emitter.ts';
import { adoptionOf, type RotationAdoption } from './_rotation-adoption.ts';
import { isConflict, LeaseLost, type RotationLease } from './_rotation-lock.ts';
import type { RotationStage, RotationStore } from './_rotation-state.ts';
import type { RotationEvents, RotationResult } from './rotation-result.ts';
import type { FinishedContext, PendingContext, RotationContext, RotationValue, Rotator } from './rotator.ts';

export interface RotationSteps {
  store: RotationStore;
  events: RotationEmitter<RotationEvents>;
  logger: Logger;
  now: () => number;
  /** With a canary rollout of the secret: the cleanup (and the `finished` outcome) waits for the fleet to adopt the new version. */
  adoption?: (name: string) => Required<RotationAdoption> | undefined;
}

type StageResult = Omit<RotationResult, 'name' | 'durationMs'>;

const bytesOf = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

function view(version: number, bytes: Uint8Array): RotationValue {
  return { version, bytes, text: () => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') };
}

/** A step's failure as a value-free KeyshiftError: a third-party message may carry request data, so it is never copied. */
function stepError(name: string, kind: string, stage: RotationStage, error: unknown): KeyshiftError {
  if (error instanceof KeyshiftError) return error;
  const what = error instanceof Error ? errorKind(error) : typeof error;
  return new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `the ${stage} step of the ${kind} rotator threw ${what}`, {
    entry: name,
    cause: valueFreeCause(error),
    details: { stage },
  });
}

export async function runStages(steps: RotationSteps, name: string, lease: RotationLease, rotator: Rotator, signal: AbortSignal): Promise<StageResult> {
  const { store, events, logger, now } = steps;
  const pendingName = lease.recordName;
  const id = lease.state.id;
  let stage = lease.state.stage;
  const held: Uint8Array[] = [];

  const read = async (secret: string, version: number): Promise<RotationValue> => {
    const { value } = await store.access(secret, version);
    held.push(value);
    return view(version, value);
  };

  /** A version of the rotated secret (the base: the one served when the stage starts); a disabled one reads as none. */
  const current = async (base = lease.state.base): Promise<RotationValue | undefined> => {
    if (base === 0) return undefined;
    try {
      return await read(name, base);
    } catch (error) {
      if (error instanceof KeyshiftError && error.code === ErrorCodes.VERSION_DISABLED) return undefined;
      throw error;
    }
  };

  /** Puts `value` unless someone wrote since the base; recognises its own earlier put (a step re-run after a crash). */
  const putOnBase = async (value: Uint8Array, ours?: (latest: RotationValue) => boolean): Promise<number> => {
    const base = lease.state.base;
    try {
      return (await store.put(name, value, { ifLatest: base })).version;
    } catch (error) {
      if (!isConflict(error)) throw error;
      const latest = await store.access(name, 'latest');
      held.push(latest.value);
      const mine = ours ?? ((l: RotationValue) => sameBytes(l.bytes, value));
      if (latest.version > base && mine(view(latest.version, latest.value))) return latest.version;
      throw new KeyshiftError(
        ErrorCodes.CONFLICT,
        `secret ${name} changed (version ${latest.version}) while its rotation was at stage ${stage}; the rotation stops and the pending value is dropped`,
        { entry: name, cause: error, details: { base, latest: latest.version } },
      );
    }
  };

  const context = async (): Promise<RotationContext> => ({
    name,
    rotationId: id,
    attempt: lease.state.attempts,
    current: await current(),
    store,
    signal,
    logger,
    async publish(value) {
      const version = await putOnBase(bytesOf(value));
      await lease.save({ base: version });
      return version;
    },
  });

  const pendingContext = async (): Promise<PendingContext> => {
    const pending = lease.state.pending;
    if (pending === undefined) throw new KeyshiftError(ErrorCodes.STORE_CORRUPT, `secret ${name}: the rotation record has no pending version`, { entry: name });
    return { ...(await context()), pending: await read(pendingName, pending) };
  };

  try {
    for (;;) {
      if (signal.aborted) throw new KeyshiftError(ErrorCodes.CLOSED, `the rotation of ${name} was stopped before stage ${stage}`, { entry: name });
      const t0 = performance.now();
      const completed = (): void => events.emit('stage', { name, rotationId: id, stage, durationMs: performance.now() - t0 });
      if (stage === 'create') {
        const value = bytesOf(await rotator.create(await context()));
        held.push(value);
        const { version } = await store.put(pendingName, value);
        await lease.save({ stage: 'set', pending: version });
      } else if (stage === 'set') {
        await rotator.set?.(await pendingContext());
        await lease.save({ stage: 'test' });
      } else if (stage === 'test') {
        await rotator.test?.(await pendingContext());
        await lease.save({ stage: 'finish' });
      } else if (stage === 'finish') {
        const ctx = await pendingContext();
        const chosen = await rotator.finish?.(ctx);
        const value = chosen === undefined ? ctx.pending.bytes : bytesOf(chosen);
        const previousVersion = lease.state.base;
        const recognise = rotator.recognise?.bind(rotator);
        const version = await putOnBase(value, recognise && ((latest) => recognise(latest, ctx)));
        const cleanupAfter = now() + (rotator.cleanupAfterMs ?? 0);
        await lease.save({ stage: 'cleanup', base: version, finished: version, previous: previousVersion, cleanupAfter });
        await setAliases(steps, name, { current: version, ...(previousVersion > 0 ? { previous: previousVersion } : {}) });
        logger.info({ secret: name, rotationId: id, version, previousVersion }, 'a rotation put its new version');
        events.emit('finished', { name, rotationId: id, version, previousVersion, attempts: lease.state.attempts, durationMs: performance.now() - t0 });
      } else {
        const { finished = 0, previous = 0, cleanupAfter = 0 } = lease.state;
        const adoption = steps.adoption?.(name);
        if (adoption !== undefined) {
          // a halted rollout that an operator resumed bakes again from now on
          const since = lease.state.bakeFrom ?? (lease.state.lastError?.code === ErrorCodes.ROLLOUT_HALTED ? now() : undefined);
          const verdict = await adoptionOf(store, name, finished, adoption, since, now());
          if (verdict.state === 'halted') {
            await lease.save({ bakeFrom: undefined });
            throw rolloutHalted(name, finished, previous, verdict.reason);
          }
          if (verdict.state === 'baking') {
            await lease.release(since === undefined ? {} : { bakeFrom: since });
            const retryAt = rotator.cleanup === undefined ? verdict.until : Math.max(verdict.until, cleanupAfter);
            return { outcome: 'waiting', waitingFor: 'adoption', rotationId: id, stage, version: finished, previousVersion: previous, retryAt, attempts: lease.state.attempts };
          }
        }
        if (rotator.cleanup !== undefined) {
          if (cleanupAfter > now()) {
            await lease.release({});
            return { outcome: 'waiting', waitingFor: 'overlap', rotationId: id, stage, version: finished, previousVersion: previous, retryAt: cleanupAfter, attempts: lease.state.attempts };
          }
          const ctx: FinishedContext = { ...(await pendingContext()), version: finished, previousVersion: previous, previous: await current(previous) };
          await rotator.cleanup(ctx);
        }
        const { pending, rotator: kind } = lease.state;
        await lease.clear({ version: finished, previous, rotator: kind, at: new Date(now()).toISOString() });
        if (pending !== undefined) await store.destroyVersion(pendingName, pending).catch(() => undefined);
        completed();
        return { outcome: 'finished', rotationId: id, stage, version: finished, previousVersion: previous, attempts: lease.state.attempts };
      }
      completed();
      stage = lease.state.stage;
    }
  } catch (error) {
    if (error instanceof LeaseLost) return { outcome: 'busy', rotationId: id, stage };
    return fail(steps, name, lease, rotator, stage, stepError(name, rotator.kind, stage, error));
  } finally {
    for (const bytes of held) bytes.fill(0);
  }
}

/** Records the failure, releases the lease (or drops the rotation after a conflict at finish), raises the alert. */
async function fail(steps: RotationSteps, name: string, lease: RotationLease, rotator: Rotator, stage: RotationStage, error: KeyshiftError): Promise<StageResult> {
  const { state } = lease;
  const { events, logger, now, store } = steps;
  const dropped = error.code === ErrorCodes.CONFLICT && stage === 'finish';
  try {
    if (dropped) {
      await lease.clear();
      if (state.pending !== undefined) await store.destroyVersion(lease.recordName, state.pending).catch(() => undefined);
    } else {
      const lastError = { stage, code: error.code, message: error.message, at: new Date(now()).toISOString() };
      await lease.release({ lastError });
    }
  } catch (recordError) {
    // The lease then runs out by itself; the next attempt resumes at the recorded stage.
    logger.warn({ secret: name, rotationId: state.id, code: (recordError as { code?: unknown }).code }, 'a failed rotation could not record its failure');
  }
  const then = dropped ? 'the rotation was dropped' : `the next attempt resumes at stage ${stage}`;
  const message =
    error.code === ErrorCodes.ROLLOUT_HALTED
      ? `rotation of ${name} (${rotator.kind}) failed at stage ${stage}, attempt ${state.attempts} (${error.code}): ${error.message}`
      : `rotation of ${name} (${rotator.kind}) failed at stage ${stage}, attempt ${state.attempts} (${error.code}: ${error.message}); version ${state.base} stays in service and ${then}`;
  logger.error({ secret: name, rotationId: state.id, stage, code: error.code, attempts: state.attempts }, message);
  events.emit('failed', { name, rotationId: state.id, stage, attempts: state.attempts, error });
  events.emit('alert', { name, rotationId: state.id, stage, code: error.code, message });
  return { outcome: 'failed', rotationId: state.id, stage, error, attempts: state.attempts };
}

/**
 * For readers pinned to an alias (a source with `version: 'current'`, AWS-style): when
 * NAME has a `current` alias, it moves to the new version and `previous` to the old
 * one. Readers of `latest` need nothing more, and NAME is not written again for them.
 */
async function setAliases(steps: RotationSteps, name: string, aliases: Record<string, number>): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const info = await steps.store.getSecret(name);
      if (info.aliases.current === undefined) return;
      await steps.store.updateSecret(name, { aliases: { ...info.aliases, ...aliases } }, { ifEtag: info.etag });
      return;
    } catch (error) {
      if (!isConflict(error)) break;
    }
  }
  steps.logger.warn({ secret: name }, 'the current and previous aliases could not be moved; the new version is served all the same');
}

/** A halted rollout of the version a rotation put, as the rotation's failure: what happened, what is served, the ways on. */
function rolloutHalted(name: string, version: number, previous: number, reason: string): KeyshiftError {
  return new KeyshiftError(
    ErrorCodes.ROLLOUT_HALTED,
    `the rollout of version ${version} was halted (${reason}); the fleet serves version ${previous} again and the cleanup does not run. ` +
      `Roll back: keyshift rotate ${name} --abandon, then keyshift rotate ${name} --rollback (a new version with the value of ${previous}); ` +
      `or resume the rollout: keyshift rollout ${name} --resume, then keyshift rotate ${name}`,
    { entry: name, details: { version, previousVersion: previous } },
  );
}

/** Constant-time equality of two values (a finish that crashed after its put is recognised by its value). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}
