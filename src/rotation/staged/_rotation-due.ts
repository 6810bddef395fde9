/**
 * When a scheduled rotation is due: `rotateEveryMs` after the latest version was made,
 * spread by a jitter every instance computes alike (a hash of the secret and its
 * version, not a random draw, so a fleet agrees on one due time), and moved into the
 * allowed window (UTC hours, optionally some weekdays only).
 */
import { createHash } from 'node:crypto';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';

/** When rotations may run, in UTC. `startHour` 22 and `endHour` 4 wrap past midnight. */
export interface RotationWindow {
  /** First hour of the window, 0-23. */
  startHour: number;
  /** Hour the window ends (exclusive), 1-24. */
  endHour: number;
  /** Days the window opens on, 0 = Sunday (the day the window starts). Default: every day. */
  days?: readonly number[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export function assertWindow(window: RotationWindow, name: string): void {
  const { startHour, endHour, days } = window;
  const hour = (h: number, max: number): boolean => Number.isInteger(h) && h >= 0 && h <= max;
  const ok =
    hour(startHour, 23) &&
    hour(endHour, 24) &&
    startHour !== endHour % 24 &&
    (days === undefined || (days.length > 0 && days.every((d) => Number.isInteger(d) && d >= 0 && d <= 6)));
  if (!ok) {
    throw new KeyshiftError(
      ErrorCodes.INVALID_DECLARATION,
      `rotation of ${name}: window needs startHour 0-23, a different endHour 1-24 and days 0-6 (0 = Sunday)`,
      { entry: name },
    );
  }
}

/** A number in [0, 1) fixed by the secret's name and latest version. */
export function stableFraction(name: string, version: number): number {
  return createHash('sha256').update(`${name}\0${version}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** `everyMs` after `lastAt`, spread over ±`jitter` of itself by the stable fraction. */
export function dueAt(name: string, version: number, lastAt: number, everyMs: number, jitter: number): number {
  return lastAt + everyMs * (1 + jitter * (2 * stableFraction(name, version) - 1));
}

/** The window that contains `at`, as [open, close) in ms, or undefined. */
function windowAround(window: RotationWindow, at: number): [number, number] | undefined {
  const length = (((window.endHour - window.startHour) % 24) + 24) % 24 || 24;
  // A window opened today or yesterday (it may wrap past midnight) can contain `at`.
  const today = Math.floor(at / DAY_MS) * DAY_MS;
  for (const dayStart of [today, today - DAY_MS]) {
    const open = dayStart + window.startHour * HOUR_MS;
    const close = open + length * HOUR_MS;
    const weekday = new Date(dayStart).getUTCDay();
    if ((window.days === undefined || window.days.includes(weekday)) && at >= open && at < close) return [open, close];
  }
  return undefined;
}

/** The first time at or after `at` inside the window (`at` itself when there is no window). */
export function nextOpen(window: RotationWindow | undefined, at: number): number {
  if (window === undefined || windowAround(window, at) !== undefined) return at;
  const today = Math.floor(at / DAY_MS) * DAY_MS;
  for (let day = 0; day <= 7; day++) {
    const open = today + day * DAY_MS + window.startHour * HOUR_MS;
    if (open >= at && windowAround(window, open) !== undefined) return open;
  }
  return at; // unreachable with a valid window: some day of any week opens it
}
