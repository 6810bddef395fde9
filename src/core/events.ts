import type { KeyshiftError } from '../errors.ts';

/** What started a fetch. */
export type Trigger = 'startup' | 'ttl' | 'retry' | 'push' | 'admin' | 'manual' | 'recheck' | 'rollout';

/** How a fetch ended. */
export type FetchOutcome = 'changed' | 'unchanged' | 'rejected' | 'not-found' | 'error';

export interface KeyshiftEvents {
  /** A dynamic entry now serves a new version. */
  change: { name: string; version: string; previousVersion: string | undefined; trigger: Trigger; source: string };
  /**
   * The source answered with a version older than the one served (a lagging replica, an
   * eventually consistent read): it is not applied and the served version stays.
   * Only for sources that order their versions (`SourceValue.order`).
   */
  'out-of-order': { name: string; version: string; servedVersion: string; trigger: Trigger; source: string };
  /**
   * A canary rollout was halted on this instance: failures past the policy's threshold, a
   * rejected version, or a halt marker in the store. `steppedBack`: this instance served
   * the version and now serves `servedVersion` (the previous one) again.
   */
  'rollout-halted': { name: string; version: string; servedVersion: string | undefined; by: 'failures' | 'rejected' | 'marker'; reason: string; failures: number; steppedBack: boolean };
  /** A version failed its type or validator; the previous value stays. */
  rejected: { name: string; version: string; type: string; code: string; reason: string };
  /** A fetch failed (the last-known-good value stays), or a listener threw. */
  error: { name: string | undefined; error: KeyshiftError; trigger: Trigger | 'listener'; consecutiveFailures: number };
  /** An entry's refreshes are failing; `exceeded` once it is older than its maxStaleMs. */
  stale: { name: string; ageMs: number; maxStaleMs: number | undefined; exceeded: boolean; failClosed: boolean };
  /** A failing entry fetched successfully again. */
  recovered: { name: string; failures: number };
  /** Every fetch, for metrics: outcome and duration; `fallbackCode` when a later source of a chain served because a preferred one failed with it. */
  fetch: { name: string; trigger: Trigger; outcome: FetchOutcome; durationMs: number; source: string; code?: string; fallbackCode?: string };
  /** ready() resolved. */
  ready: { durationMs: number; entries: number };
}

export type EventName = keyof KeyshiftEvents;
export type Listener<E extends EventName> = (payload: KeyshiftEvents[E]) => void;
