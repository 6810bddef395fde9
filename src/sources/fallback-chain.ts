import { ErrorCodes, KeyshiftError, toKeyshiftError } from '../errors.ts';
import { systemClock } from '../core/clock.ts';
import type { Clock, RolloutMarker, Source, SourceGetOptions, SourceValue } from '../types.ts';
import { checkSourceOptions } from './_check-source-options.ts';

export interface FallbackChainOptions {
  /**
   * Fall through to the next source when one fails (not only when it lacks the entry),
   * as long as no source up to the failing one has ever served the entry (start-up with
   * the store down). Default true.
   */
  onError?: boolean;
  /**
   * After a source has served an entry, a not-found from it lets the next source serve
   * the entry (true). Default false: the not-found is the chain's answer, so a required
   * entry keeps its last-known-good value and alerts (`KS_ERR_SOURCE_NOT_FOUND`), and an
   * optional one becomes absent. A deleted (or no longer readable) secret in the store
   * never brings back a deploy-time value by itself.
   */
  notFoundFallsThrough?: boolean;
  /**
   * While a later source may still serve the entry (`onError`, and no source up to this
   * one has served it), a source that has not answered within this many ms is abandoned
   * and the chain falls through, as for a failure: a store that hangs at start-up (a
   * network black hole) still lets env start the service, inside the core's
   * `fetchTimeoutMs` (3,000 ms by default; keep this below it). Default 1,000 ms.
   */
  fallThroughAfterMs?: number;
  /** Time source for `fallThroughAfterMs` (`createFakeClock()` in tests). Default the system clock. */
  clock?: Clock;
}

/**
 * Tries each source in order: the first that has the entry serves it, and its kind
 * is reported as `source` so status shows a fallback. A chain never rolls back a
 * rotation: once a source has served an entry, a later source serves that entry again
 * only by the rules below, never because the earlier one failed.
 *
 * - A failing source falls through to the next one only while no source up to it has
 *   served the entry (`onError`, default true): a store outage at startup still starts
 *   the service from env. Once the store has served the entry, its failure is the
 *   chain's failure, and the core keeps the last-known-good value (maxStaleMs rules).
 * - A source that lacks the entry falls through while no source up to it has served it
 *   (the store does not have this entry: env's value serves); after that, only with
 *   `notFoundFallsThrough`.
 * - Versions of different sources are not comparable: the chain passes `order` only from
 *   the source that served, and not on the first answer after a switch of source (two
 *   sources of one kind number apart), and the core compares orders only between answers
 *   of the same source. A switch of source follows the rules above, never an order.
 *
 * When every source tried fails, the first failure is thrown.
 */
export function fallbackChain(sources: readonly Source[], options: FallbackChainOptions = {}): Source {
  if (!Array.isArray(sources) || sources.length === 0) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'fallbackChain() needs an array of at least one source');
  }
  for (const [index, source] of sources.entries()) {
    if (typeof (source as Partial<Source> | undefined)?.get !== 'function') {
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `fallbackChain(): sources[${index}] is not a source (such as env() or localStore())`);
    }
  }
  checkSourceOptions('fallbackChain()', options, { onError: 'boolean', notFoundFallsThrough: 'boolean', fallThroughAfterMs: 'ms', clock: 'object' });
  const onError = options.onError ?? true;
  const notFoundFallsThrough = options.notFoundFallsThrough ?? false;
  const fallThroughAfterMs = options.fallThroughAfterMs ?? DEFAULT_FALL_THROUGH_AFTER_MS;
  if (!Number.isFinite(fallThroughAfterMs) || fallThroughAfterMs <= 0) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'fallbackChain(): fallThroughAfterMs must be a positive number of ms');
  }
  const clock = options.clock ?? systemClock;
  /** Entry name -> the index of the earliest source that has answered it with a value. */
  const servedFrom = new Map<string, number>();
  /** Entry name -> the index of the source that answered it last. */
  const answeredBy = new Map<string, number>();
  return {
    kind: `fallback(${sources.map((s) => s.kind).join('>')})`,
    async get(name, opts): Promise<SourceValue | undefined> {
      let firstError: KeyshiftError | undefined;
      for (const [index, source] of sources.entries()) {
        const served = (servedFrom.get(name) ?? Number.POSITIVE_INFINITY) <= index;
        try {
          const mayFallThrough = onError && !served && index < sources.length - 1;
          const got = mayFallThrough ? await withDeadline(source, name, opts, fallThroughAfterMs, clock) : await source.get(name, opts);
          if (got) {
            if (!served) servedFrom.set(name, index);
            const switched = (answeredBy.get(name) ?? index) !== index;
            answeredBy.set(name, index);
            // the first answer after a switch carries no order: two sources of one kind (two
            // stores, two regions) number their versions apart, and the core compares orders by kind
            const { order, ...rest } = got;
            const ordered = switched || order === undefined ? {} : { order };
            return { ...rest, ...ordered, source: got.source ?? source.kind, ...(firstError ? { fallbackFrom: firstError } : {}) };
          }
          if (served && !notFoundFallsThrough) return undefined;
        } catch (error) {
          if (!onError || served) throw error;
          firstError ??= toKeyshiftError(error, name);
        }
        if (opts.signal.aborted) break;
      }
      if (firstError) throw firstError;
      return undefined;
    },
    // The rollout marker (docs/adoption.md) lives with the version: in the source that answered
    // the entry last. Read or written through a source that keeps none, it is unknown (the
    // core then keeps the marker it knew), never "no marker" (that would resume a halt).
    ...(sources.some((s) => s.rolloutMarker !== undefined || s.markRollout !== undefined)
      ? {
          rolloutMarker(name: string, opts: { signal: AbortSignal }) {
            const source = sources[answeredBy.get(name) ?? 0];
            if (source?.rolloutMarker === undefined) return Promise.reject(noMarkers(source, name));
            return source.rolloutMarker(name, opts);
          },
          markRollout(name: string, marker: RolloutMarker | undefined, opts: { signal: AbortSignal }) {
            const source = sources[answeredBy.get(name) ?? 0];
            if (source?.markRollout === undefined) return Promise.reject(noMarkers(source, name));
            return source.markRollout(name, marker, opts);
          },
        }
      : {}),
    locate(name) {
      return sources.map((s) => s.locate?.(name) ?? `${name} in ${s.kind}`).join(', then ');
    },
    watch(onChange) {
      const disposers = sources.flatMap((s) => (s.watch ? [s.watch(onChange)] : []));
      return () => {
        for (const dispose of disposers) dispose();
      };
    },
    async close() {
      await Promise.all(sources.map((s) => s.close?.()));
    },
  };
}

function noMarkers(source: Source | undefined, name: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `${name}: ${source?.kind ?? 'the chain'} keeps no rollout markers`, { entry: name });
}

const DEFAULT_FALL_THROUGH_AFTER_MS = 1_000;

/** `source.get` abandoned (its signal aborted) when it has not answered within `ms`: a SOURCE_TIMEOUT the chain falls through on. */
async function withDeadline(source: Source, name: string, opts: SourceGetOptions, ms: number, clock: Clock): Promise<SourceValue | undefined> {
  const controller = new AbortController();
  const forward = (): void => controller.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', forward, { once: true });
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      controller.abort();
      reject(
        new KeyshiftError(ErrorCodes.SOURCE_TIMEOUT, `entry ${name}: ${source.kind} did not answer within ${ms} ms; the chain falls through`, {
          entry: name,
          details: { timeoutMs: ms },
        }),
      );
    }, ms);
  });
  try {
    const call = source.get(name, { ...opts, signal: controller.signal });
    call.catch(() => {}); // abandoned at the deadline: its late rejection must not go unhandled
    return await Promise.race([call, deadline]);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    opts.signal.removeEventListener('abort', forward);
  }
}
