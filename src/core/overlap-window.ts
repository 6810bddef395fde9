/**
 * Overlap windows for secrets shared with a third party (a webhook secret the provider
 * switches on its own schedule): a dynamic entry declared with `overlapMs` keeps each
 * value it stops serving for that long after the newer version was applied, so a read
 * gives the current value and the previous ones still inside the window, from memory
 * (never a store call on the read). At most MAX_OVERLAP_VALUES previous values are kept.
 * The window counts from when this process applied the newer version, on its clock.
 */
import type { EntryState } from './entry-state.ts';

/** A value readable inside the window: the current one first, then previous ones, newest first. */
export interface OverlapValue<T = unknown> {
  readonly version: string;
  readonly value: T;
  /** True for the value the entry serves now. */
  readonly current: boolean;
  /** For a previous value: the clock time (ms) it stops being readable. */
  readonly until?: number;
}

/** Previous values kept per entry at most, however short the rotations. */
export const MAX_OVERLAP_VALUES = 4;

interface Retired {
  version: string;
  value: unknown;
  until: number;
}

const retiredByEntry = new WeakMap<EntryState, Retired[]>();

/** Called as `state` is about to serve a newer version: its current value enters the window. */
export function retireCurrent(state: EntryState, now: number): void {
  const overlapMs = state.info.overlapMs;
  if (overlapMs === undefined || !state.hasValue || state.version === undefined || state.value === null) return;
  const kept = (retiredByEntry.get(state) ?? []).filter((r) => r.until > now && r.version !== state.version);
  kept.unshift({ version: state.version, value: state.value, until: now + overlapMs });
  retiredByEntry.set(state, kept.slice(0, MAX_OVERLAP_VALUES));
}

/** The current value and the previous ones still inside the window (expired ones are dropped). */
export function overlapValues(state: EntryState, current: unknown, now: number): OverlapValue[] {
  const kept = (retiredByEntry.get(state) ?? []).filter((r) => r.until > now && r.version !== state.version);
  retiredByEntry.set(state, kept);
  const values: OverlapValue[] = [];
  if (state.version !== undefined && current !== null && current !== undefined) values.push({ version: state.version, value: current, current: true });
  for (const r of kept) values.push({ version: r.version, value: r.value, current: false, until: r.until });
  return values;
}
