/**
 * Whether the fleet has adopted the version a staged rotation put, when the secret's entry
 * rolls out by canary (docs/adoption.md). There is no coordinator to ask: the store says
 * it. The `keyshift-rollout` marker on the secret says halted or promoted; without one, the
 * version is adopted once its bake has passed, counted from the version's creation (or
 * from the run that saw a halted rollout resumed), plus a margin for every instance to
 * first see it (a notification, or a TTL without one).
 */
import { DEFAULT_ROTATION_ADOPTION_MARGIN_MS } from '../../constants.ts';
import { parseRolloutMarker, ROLLOUT_ANNOTATION } from '../../core/adoption.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { RolloutMarker } from '../../types.ts';
import type { RotationState, RotationStore } from './_rotation-state.ts';

/** A staged rotation that finishes only once the fleet has adopted its version. */
export interface RotationAdoption {
  /** The entry's bake time: its `adoption.bakeMs` in the services' declaration. */
  bakeMs: number;
  /** Added to the bake, for every instance to first see the version. Default 60,000 ms (DEFAULT_ROTATION_ADOPTION_MARGIN_MS). */
  marginMs?: number;
}

export type AdoptionVerdict =
  /** Served everywhere: the bake and margin passed with no halt, or an operator promoted it. */
  | { state: 'adopted'; by: 'bake' | 'promoted' }
  /** Still rolling out; look again at `until` (wall-clock ms). */
  | { state: 'baking'; until: number }
  /** Its rollout is halted: instances that served it stepped back, the others never adopted it. */
  | { state: 'halted'; reason: string };

/** Checks a rotation's adoption option once, when the runner is made. */
export function checkRotationAdoption(adoption: RotationAdoption): Required<RotationAdoption> {
  const { bakeMs, marginMs = DEFAULT_ROTATION_ADOPTION_MARGIN_MS } = adoption;
  if (typeof bakeMs !== 'number' || !Number.isFinite(bakeMs) || bakeMs <= 0) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `a rotation's adoption.bakeMs must be a positive number of milliseconds, got ${String(bakeMs)}`);
  }
  if (typeof marginMs !== 'number' || !Number.isFinite(marginMs) || marginMs < 0) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `a rotation's adoption.marginMs must be 0 or more milliseconds, got ${String(marginMs)}`);
  }
  return { bakeMs, marginMs };
}

/** The marker on `name`; one another tool wrote in another shape counts as none (instances ignore it too). */
async function markerOf(store: RotationStore, name: string): Promise<RolloutMarker | undefined> {
  const info = await store.getSecret(name);
  try {
    return parseRolloutMarker(name, info.annotations[ROLLOUT_ANNOTATION]);
  } catch {
    return undefined;
  }
}

/**
 * Where the rollout of `version` of `name` stands. `since`: wall-clock ms the bake counts
 * from instead of the version's creation (a halted rollout resumed: instances start it again).
 */
export async function adoptionOf(
  store: RotationStore,
  name: string,
  version: number,
  adoption: Required<RotationAdoption>,
  since: number | undefined,
  now: number,
): Promise<AdoptionVerdict> {
  const marker = await markerOf(store, name);
  if (marker?.version === String(version)) {
    if (marker.state === 'halted') return { state: 'halted', reason: marker.reason ?? 'halted in the store' };
    return { state: 'adopted', by: 'promoted' };
  }
  let from = since;
  if (from === undefined) {
    const created = (await store.versions(name)).find((v) => v.version === version)?.createTime;
    from = created === undefined ? now : Date.parse(created);
  }
  const until = from + adoption.bakeMs + adoption.marginMs;
  return now >= until ? { state: 'adopted', by: 'bake' } : { state: 'baking', until };
}

/**
 * For a run that finds a rotation at its cleanup stage: the wall-clock ms its version is
 * still baking until (the later of the bake and, with a cleanup, the overlap), read from
 * the store with no write; undefined when the run must claim the rotation (adopted,
 * halted, or a halted rollout resumed, whose new bake start is to be recorded).
 */
export async function bakingUntil(
  store: RotationStore,
  name: string,
  state: RotationState,
  adoption: Required<RotationAdoption>,
  now: number,
  hasCleanup: boolean,
): Promise<number | undefined> {
  if (state.bakeFrom === undefined && state.lastError?.code === ErrorCodes.ROLLOUT_HALTED) return undefined;
  const verdict = await adoptionOf(store, name, state.finished ?? 0, adoption, state.bakeFrom, now);
  if (verdict.state !== 'baking') return undefined;
  return hasCleanup ? Math.max(verdict.until, state.cleanupAfter ?? 0) : verdict.until;
}
