import { readsLikeName, shownName } from '../../core/shown-name.ts';
/**
 * What starts rotations: a schedule per secret (`rotateEveryMs`, with a jitter every
 * instance agrees on and an allowed window), Secret Manager's `SECRET_ROTATE`
 * reminder, and a call by hand. Every instance of a fleet may run the same scheduler:
 * the store's conditional writes let exactly one of them make each new version, and a
 * rotation that failed is resumed at its stage after `retryMs`.
 *
 *   const scheduler = createRotationScheduler({ store, rotations: [
 *     { name: 'WEBHOOK_SECRET', rotator: randomSecret(), rotateEveryMs: 30 * DAY_MS, window: { startHour: 2, endHour: 5 } },
 *   ] });
 */
import {
  DEFAULT_ROTATION_CHECK_INTERVAL_MS,
  DEFAULT_ROTATION_JITTER,
  DEFAULT_ROTATION_RETRY_MS,
} from '../../constants.ts';
import { systemClock } from '../../core/clock.ts';
import { stderrLogger, silentLogger } from '../../core/logger.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { secretIdOf } from '../../gcp/resource-names.ts';
import type { SecretInfo } from '../../local-store/index.ts';
import type { Clock, Disposer, Logger, TimerHandle } from '../../types.ts';
import { RotationEmitter } from '../_emitter.ts';
import { checkRotationAdoption, type RotationAdoption } from './_rotation-adoption.ts';
import { assertWindow, dueAt, nextOpen, type RotationWindow } from './_rotation-due.ts';
import { type RotateNotification, type RotatePushOptions, rotatePushHandler } from './_rotate-push.ts';
import { readRecord, readState } from './_rotation-state.ts';
import {
  createRotationRunner,
  type RotationCondition,
  type RotationEvents,
  type RotationResult,
  type RotationRunner,
  type RotationStore,
  type Rotator,
} from './rotation-runner.ts';

export type { RotationWindow } from './_rotation-due.ts';
export type { RotateNotification, RotatePushOptions } from './_rotate-push.ts';

export interface ScheduledRotation {
  /** The secret (store name). */
  name: string;
  rotator: Rotator;
  /** Rotate once the latest version is this old. Default: no schedule (reminders and manual runs only). */
  rotateEveryMs?: number;
  /** Spread of rotateEveryMs, ± this fraction. Default 0.1 (DEFAULT_ROTATION_JITTER). */
  jitter?: number;
  /** When scheduled rotations may start (UTC). Reminders and manual runs ignore it. Default: any time. */
  window?: RotationWindow;
  /** The entry rolls out by canary: the rotation finishes once the fleet adopted the version, a halted rollout fails it (RotationRunnerOptions.adoption). */
  adoption?: RotationAdoption;
}

export type RotationTrigger = 'schedule' | 'notification' | 'manual' | 'retry';

export interface RotationSchedulerEvents extends RotationEvents {
  /** A run started. */
  triggered: { name: string; trigger: RotationTrigger };
  /** A run ended, whatever its outcome. */
  result: { trigger: RotationTrigger; result: RotationResult };
}

export interface RotationSchedulerOptions {
  /** The store the rotated secrets live in (a LocalStore). */
  store: RotationStore;
  rotations: readonly ScheduledRotation[];
  /** How often due rotations and failed ones are looked for. Default 60,000 ms. */
  checkIntervalMs?: number;
  /** A failed rotation is resumed no sooner than this after its failure. Default 300,000 ms. */
  retryMs?: number;
  /** Lease of a claimed rotation. Default 300,000 ms. */
  leaseMs?: number;
  /** Timers (unref'd) and wall time. Default the system clock. */
  clock?: Clock;
  /** Pino-compatible logger, or false. Default: warnings and errors on stderr. */
  logger?: Logger | false;
  /** Called with every alert (a failed step). Default: none. */
  onAlert?: (alert: RotationEvents['alert']) => void;
  /** The secret a SECRET_ROTATE reminder is about. Default: the secret id of its resource name. */
  secretFor?: (secretResource: string) => string | undefined;
  /** Start the timer. Default true; false leaves scheduled runs to check(). */
  start?: boolean;
}

export interface RotationScheduler {
  /** Rotates `name` now (trigger 'manual'); a rotation under way resumes instead. */
  rotate(name: string, condition?: RotationCondition): Promise<RotationResult>;
  /** Acts on a SECRET_ROTATE reminder: resolves undefined when it names no scheduled secret. */
  notify(notification: RotateNotification): Promise<RotationResult | undefined>;
  /** A Pub/Sub push endpoint for SECRET_ROTATE reminders (web-standard handler). */
  pushHandler(options: RotatePushOptions): (request: Request) => Promise<Response>;
  /** Runs every due rotation and retry now; resolves their results. The timer calls it. */
  check(): Promise<RotationResult[]>;
  /** Wall-clock ms the next scheduled rotation of `name` is due (window applied), or undefined. */
  nextDue(name: string): Promise<number | undefined>;
  readonly runner: RotationRunner;
  on<E extends keyof RotationSchedulerEvents>(event: E, listener: (payload: RotationSchedulerEvents[E]) => void): Disposer;
  /** Stops the timer, aborts the steps in flight and waits for their runs to end. */
  close(): Promise<void>;
}

/** Timer ticks closer together than this are spread out (a rotation failing at once with retryMs 0 cannot spin). */
const MIN_TICK_MS = 20;

export function createRotationScheduler(options: RotationSchedulerOptions): RotationScheduler {
  const clock = options.clock ?? systemClock;
  const logger = options.logger === false ? silentLogger : (options.logger ?? stderrLogger);
  const checkMs = options.checkIntervalMs ?? DEFAULT_ROTATION_CHECK_INTERVAL_MS;
  const retryMs = options.retryMs ?? DEFAULT_ROTATION_RETRY_MS;
  const events = new RotationEmitter<RotationSchedulerEvents>('the rotation scheduler', logger, 'scheduler');
  const runner = createRotationRunner({
    store: options.store,
    logger,
    now: () => clock.wallNow(),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.onAlert === undefined ? {} : { onAlert: options.onAlert }),
    adoption: (name) => byName.get(name)?.adoption,
  });
  for (const event of ['stage', 'finished', 'failed', 'alert'] as const) {
    runner.on(event, (payload) => events.deliver(event, payload as never)); // the runner publishes these on keyshift:rotation:*
  }
  const byName = new Map<string, ScheduledRotation>();
  for (const entry of options.rotations) {
    if (byName.has(entry.name)) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `rotation of ${entry.name} is scheduled twice`, { entry: entry.name });
    if (entry.rotateEveryMs !== undefined && !(entry.rotateEveryMs > 0)) {
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `rotation of ${entry.name}: rotateEveryMs must be a positive number of ms`, { entry: entry.name });
    }
    if (entry.window !== undefined) assertWindow(entry.window, entry.name);
    if (entry.adoption !== undefined) checkRotationAdoption(entry.adoption);
    byName.set(entry.name, entry);
  }
  const inFlight = new Map<string, Promise<RotationResult>>();
  const abort = new AbortController();
  let timer: TimerHandle | undefined;
  let closed = false;
  let checking: Promise<RotationResult[]> | undefined;

  const entryOf = (name: string): ScheduledRotation => {
    const entry = byName.get(name);
    if (entry === undefined) throw new KeyshiftError(ErrorCodes.UNKNOWN_ENTRY, `no rotation is scheduled for ${shownName(name)}`, readsLikeName(name) ? { entry: name } : {});
    return entry;
  };

  /** One run per secret at a time in this process: a second trigger joins the first. */
  const start = (entry: ScheduledRotation, trigger: RotationTrigger, condition?: RotationCondition): Promise<RotationResult> => {
    const running = inFlight.get(entry.name);
    if (running) return running;
    if (closed) return Promise.reject(new KeyshiftError(ErrorCodes.CLOSED, 'the rotation scheduler is closed'));
    events.emit('triggered', { name: entry.name, trigger });
    const run = runner.run(entry.name, entry.rotator, condition, abort.signal).then((result) => {
      events.emit('result', { trigger, result });
      return result;
    });
    const tracked = run.finally(() => inFlight.delete(entry.name));
    inFlight.set(entry.name, tracked);
    return tracked;
  };

  const infoOf = async (name: string): Promise<SecretInfo | undefined> => {
    try {
      return await options.store.getSecret(name);
    } catch (error) {
      if (error instanceof KeyshiftError && error.code === ErrorCodes.SOURCE_NOT_FOUND) return undefined;
      throw error;
    }
  };

  /** What to do about `entry` now: run (with a trigger and condition), or when to look again. */
  const plan = async (entry: ScheduledRotation, now: number): Promise<{ trigger: RotationTrigger; condition?: RotationCondition } | { at: number | undefined }> => {
    const info = await infoOf(entry.name);
    const record = await readRecord(options.store, entry.name);
    const state = record && readState(record);
    if (state !== undefined) {
      const failedAt = state.lastError ? Date.parse(state.lastError.at) : 0;
      const at = Math.max(state.leaseUntil, state.stage === 'cleanup' ? (state.cleanupAfter ?? 0) : 0, state.lastError ? failedAt + retryMs : 0);
      return at <= now ? { trigger: 'retry' } : { at };
    }
    const due = await scheduledAt(entry, info);
    if (due === undefined) return { at: undefined };
    return due <= now ? { trigger: 'schedule', condition: { ifLatest: info?.latest ?? 0 } } : { at: due };
  };

  const scheduledAt = async (entry: ScheduledRotation, info: SecretInfo | undefined): Promise<number | undefined> => {
    if (entry.rotateEveryMs === undefined) return undefined;
    const latest = info?.latest ?? 0;
    if (latest === 0) return nextOpen(entry.window, clock.wallNow());
    const created = (await options.store.versions(entry.name)).find((v) => v.version === latest)?.createTime;
    const due = dueAt(entry.name, latest, Date.parse(created ?? '') || 0, entry.rotateEveryMs, entry.jitter ?? DEFAULT_ROTATION_JITTER);
    return nextOpen(entry.window, due);
  };

  /** Starts what is due now; then arms the timer for whatever is due next. */
  const check = async (): Promise<RotationResult[]> => {
    const now = clock.wallNow();
    const runs: Promise<RotationResult>[] = [];
    for (const entry of byName.values()) {
      const next = await planned(entry, now);
      if (next !== undefined && 'trigger' in next) runs.push(start(entry, next.trigger, next.condition));
    }
    arm(checkMs); // other entries stay watched while these runs take their time
    const results = await Promise.all(runs);
    await rearm();
    return results;
  };

  /** A plan, or undefined when the secret could not be read (looked at again by the next check). */
  const planned = async (entry: ScheduledRotation, now: number) => {
    try {
      return await plan(entry, now);
    } catch (error) {
      const code = error instanceof KeyshiftError ? error.code : ErrorCodes.INTERNAL;
      logger.warn({ secret: entry.name, code }, 'the rotation scheduler could not read a secret; it looks again at the next check');
      return undefined;
    }
  };

  const rearm = async (): Promise<void> => {
    if (closed || options.start === false) return;
    const now = clock.wallNow();
    let soonest = now + checkMs;
    for (const entry of byName.values()) {
      const next = await planned(entry, now);
      if (next === undefined) continue;
      soonest = Math.min(soonest, 'trigger' in next ? now : (next.at ?? soonest));
    }
    arm(soonest - clock.wallNow());
  };

  function arm(delayMs: number): void {
    if (closed || options.start === false) return;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = clock.setTimeout(tick, Math.min(Math.max(MIN_TICK_MS, delayMs), checkMs));
  }

  function tick(): void {
    timer = undefined;
    runCheck().catch((error: unknown) => {
      logger.error({ code: error instanceof KeyshiftError ? error.code : ErrorCodes.INTERNAL }, 'a rotation check failed');
      arm(checkMs);
    });
  }

  const runCheck = (): Promise<RotationResult[]> => {
    checking ??= check().finally(() => {
      checking = undefined;
    });
    return checking;
  };

  const notify = async (notification: RotateNotification): Promise<RotationResult | undefined> => {
    const name = (options.secretFor ?? secretIdOf)(notification.secretId);
    const entry = name === undefined ? undefined : byName.get(name);
    if (entry === undefined) {
      logger.info({ secret: name ?? 'unknown' }, 'a SECRET_ROTATE reminder names no scheduled rotation; ignored');
      return undefined;
    }
    const condition = notification.publishTime === undefined ? undefined : { ifUnrotatedSince: notification.publishTime };
    return start(entry, 'notification', condition);
  };

  if (options.start !== false) arm(0);

  return {
    runner,
    rotate: (name, condition) => start(entryOf(name), 'manual', condition),
    notify,
    pushHandler: (pushOptions) =>
      rotatePushHandler(pushOptions, (notification) => {
        notify(notification).catch((error: unknown) => {
          logger.error({ code: error instanceof KeyshiftError ? error.code : ErrorCodes.INTERNAL }, 'a SECRET_ROTATE reminder could not start its rotation');
        });
      }),
    check: runCheck,
    async nextDue(name) {
      const entry = entryOf(name);
      return scheduledAt(entry, await infoOf(name));
    },
    on: (event, listener) => events.on(event, listener),
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      abort.abort();
      await Promise.allSettled([...inFlight.values(), ...(checking ? [checking] : [])]);
    },
  };
}
