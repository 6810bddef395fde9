import { createHash } from 'node:crypto';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Category, RolloutMarker } from '../types.ts';

/**
 * A per-entry canary policy: a new version is first served by a deterministic slice of
 * the fleet, a slice that grows with the time since this instance first saw the version,
 * and is served everywhere once `bakeMs` has passed. Failures counted against the version
 * during the bake (`reportFailure()`, a rejected version) past `maxFailures` halt it.
 */
export interface AdoptionPolicy {
  /**
   * The fractions of the fleet that serve the new version during the bake, in order, each
   * for an equal part of `bakeMs` (default [0.1, 0.5]: 10 % for the first half, 50 % for
   * the second). Each in (0, 1], increasing. After `bakeMs`: everyone.
   */
  steps?: readonly number[];
  /** How long the rollout bakes before every instance serves the version. */
  bakeMs: number;
  /** Failures this instance counts against the version during the bake before it halts it. Default 3. */
  maxFailures?: number;
  /** What an admin refresh (POST /refresh) does with a new version: serve it at once ('promote', the default) or roll it out ('canary'). */
  onAdminRefresh?: 'promote' | 'canary';
}

/** A policy with its defaults filled in. */
export interface ResolvedAdoption {
  readonly steps: readonly number[];
  readonly bakeMs: number;
  readonly maxFailures: number;
  readonly onAdminRefresh: 'promote' | 'canary';
}

export const DEFAULT_ADOPTION_STEPS: readonly number[] = Object.freeze([0.1, 0.5]);
export const DEFAULT_ADOPTION_MAX_FAILURES = 3;

/**
 * Categories where a mixed fleet is unsafe, so a canary is refused at declaration: a
 * database password (the old one stops working once the database has the new one), a
 * signing key (the verifier must hold every key any instance signs with: the keyring's
 * overlap does that), a private key (static), a webhook secret (the third party signs with
 * one secret at a time: instances on the other one would refuse every webhook).
 */
export const MIXED_FLEET_UNSAFE: ReadonlySet<Category> = new Set<Category>(['database-credential', 'signing-key', 'private-key', 'webhook-secret']);

/** The bake time `adoption: true` takes, by category (the categories that allow a canary). */
export const DEFAULT_BAKE_MS_BY_CATEGORY: Readonly<Partial<Record<Category, number>>> = Object.freeze({
  'api-key': 10 * 60_000,
  'service-url': 5 * 60_000,
  'queue-name': 5 * 60_000,
  'app-config': 5 * 60_000,
  infrastructure: 10 * 60_000,
  other: 5 * 60_000,
});

function invalid(entry: string, message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `entry ${entry}: adoption ${message}`, { entry });
}

/**
 * Checks and resolves an entry's `adoption` (undefined or false: no canary, a new version
 * is served at once). Throws KS_ERR_INVALID_DECLARATION naming the entry.
 */
export function resolveAdoption(
  entry: string,
  category: Category,
  adoption: AdoptionPolicy | boolean | undefined,
  isStatic: boolean,
): ResolvedAdoption | undefined {
  if (adoption === undefined || adoption === false) return undefined;
  if (isStatic) throw invalid(entry, 'does not apply to a static entry (it is read once)');
  if (MIXED_FLEET_UNSAFE.has(category)) {
    throw invalid(entry, `is refused for category ${category}: a fleet serving two versions of it at once is unsafe`);
  }
  if (adoption === true) {
    return Object.freeze({ steps: DEFAULT_ADOPTION_STEPS, bakeMs: DEFAULT_BAKE_MS_BY_CATEGORY[category] ?? 5 * 60_000, maxFailures: DEFAULT_ADOPTION_MAX_FAILURES, onAdminRefresh: 'promote' });
  }
  if (typeof adoption !== 'object' || adoption === null) throw invalid(entry, 'must be true, false or { bakeMs, steps?, maxFailures? }');
  const { bakeMs, steps = DEFAULT_ADOPTION_STEPS, maxFailures = DEFAULT_ADOPTION_MAX_FAILURES, onAdminRefresh = 'promote' } = adoption;
  if (onAdminRefresh !== 'promote' && onAdminRefresh !== 'canary') throw invalid(entry, "onAdminRefresh must be 'promote' or 'canary'");
  if (typeof bakeMs !== 'number' || !Number.isFinite(bakeMs) || bakeMs <= 0) throw invalid(entry, 'bakeMs must be a positive number of milliseconds');
  if (!Array.isArray(steps) || steps.length === 0) throw invalid(entry, 'steps must be a non-empty list of fractions');
  let last = 0;
  for (const step of steps) {
    if (typeof step !== 'number' || !(step > 0 && step <= 1)) throw invalid(entry, `step ${String(step)} is outside (0, 1]`);
    if (step <= last) throw invalid(entry, 'steps must increase');
    last = step;
  }
  if (!Number.isInteger(maxFailures) || maxFailures < 1) throw invalid(entry, 'maxFailures must be a whole number of at least 1');
  return Object.freeze({ steps: Object.freeze([...steps]), bakeMs, maxFailures, onAdminRefresh });
}

/** This instance's place in [0, 1) for one version of one entry: SHA-256 of the three, stable across processes. */
export function adoptionSlot(instanceId: string, entry: string, version: string): number {
  const digest = createHash('sha256').update(`${instanceId}\0${entry}\0${version}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The fraction of the fleet that serves the version `elapsedMs` after it was first seen. */
export function fractionAt(policy: ResolvedAdoption, elapsedMs: number): number {
  if (elapsedMs >= policy.bakeMs) return 1;
  const index = Math.floor((Math.max(0, elapsedMs) / policy.bakeMs) * policy.steps.length);
  return policy.steps[Math.min(index, policy.steps.length - 1)] ?? 1;
}

/** Milliseconds from `elapsedMs` to the next step (the bake's end last), or undefined once baked. */
export function nextStepInMs(policy: ResolvedAdoption, elapsedMs: number): number | undefined {
  if (elapsedMs >= policy.bakeMs) return undefined;
  const stepMs = policy.bakeMs / policy.steps.length;
  const next = (Math.floor(Math.max(0, elapsedMs) / stepMs) + 1) * stepMs;
  return Math.max(1, Math.min(next, policy.bakeMs) - elapsedMs);
}

/** Whether this instance serves the version `elapsedMs` after it was first seen. */
export function inSlice(policy: ResolvedAdoption, slot: number, elapsedMs: number): boolean {
  return slot < fractionAt(policy, elapsedMs);
}

/** The annotation (Secret Manager) or metadata annotation (local store) a rollout marker is kept in. */
export const ROLLOUT_ANNOTATION = 'keyshift-rollout';

const MARKER_STATES = new Set(['halted', 'promoted']);

/** Parses a stored marker; KS_ERR_ROLLOUT_MARKER (never a crash) for one another tool wrote in another shape. */
export function parseRolloutMarker(entry: string, text: string | undefined): RolloutMarker | undefined {
  if (text === undefined || text === '') return undefined;
  const bad = (why: string): KeyshiftError =>
    new KeyshiftError(ErrorCodes.ROLLOUT_MARKER, `entry ${entry}: the ${ROLLOUT_ANNOTATION} marker is ignored: ${why}`, { entry });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('it is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad('it is not an object');
  const { version, state, reason, at } = parsed as Record<string, unknown>;
  if (typeof version !== 'string' || version === '' || version.length > 64) throw bad('version must be a non-empty string');
  if (typeof state !== 'string' || !MARKER_STATES.has(state)) throw bad('state must be "halted" or "promoted"');
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 500)) throw bad('reason must be a short string');
  if (at !== undefined && typeof at !== 'string') throw bad('at must be an ISO time');
  return { version, state: state as RolloutMarker['state'], ...(reason !== undefined ? { reason } : {}), ...(at !== undefined ? { at } : {}) };
}

/** The stored form of a marker. */
export function formatRolloutMarker(marker: RolloutMarker): string {
  return JSON.stringify(marker);
}
