import { formatRolloutMarker, ROLLOUT_ANNOTATION } from './adoption.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { RolloutMarker } from '../types.ts';

/** What a marker write needs of a store: the local store and the Secret Manager rotation store both have it. */
export interface AnnotatedStore {
  getSecret(name: string): Promise<{ annotations: Record<string, string>; etag: string }>;
  updateSecret(name: string, patch: { annotations?: Record<string, string> }, options?: { ifEtag?: string }): Promise<unknown>;
}

/**
 * Writes (or, with undefined, removes) a secret's rollout marker in its annotations,
 * conditionally on the secret's etag: a write that loses a race reads again and retries
 * (five times at most), so the other annotations are never lost.
 */
export async function writeRolloutMarker(store: AnnotatedStore, name: string, marker: RolloutMarker | undefined, signal?: AbortSignal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new KeyshiftError(ErrorCodes.SOURCE_TIMEOUT, `rollout marker of ${name}: aborted`, { entry: name });
    const info = await store.getSecret(name);
    const annotations = { ...info.annotations };
    if (marker === undefined) delete annotations[ROLLOUT_ANNOTATION];
    else annotations[ROLLOUT_ANNOTATION] = formatRolloutMarker(marker);
    try {
      await store.updateSecret(name, { annotations }, { ifEtag: info.etag });
      return;
    } catch (error) {
      if (!(error instanceof KeyshiftError && error.code === ErrorCodes.CONFLICT) || attempt >= 4) throw error;
    }
  }
}
