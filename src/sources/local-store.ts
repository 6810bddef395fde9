import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { openLocalStore, resolveStoreDir } from '../local-store/open-local-store.ts';
import type { LocalStore } from '../local-store/store.ts';
import type { LocalStoreOptions } from '../local-store/types.ts';
import { parseRolloutMarker, ROLLOUT_ANNOTATION } from '../core/adoption.ts';
import type { Source } from '../types.ts';
import { writeRolloutMarker } from '../core/rollout-marker.ts';
import { checkSourceOptions } from './_check-source-options.ts';

export interface LocalStoreSourceOptions extends LocalStoreOptions {
  /** The version every entry is read at: 'latest', a number as a string, or an alias. Default: 'latest'. */
  version?: string;
}

function aborted(name: string, signal: AbortSignal): KeyshiftError {
  return new KeyshiftError(ErrorCodes.SOURCE_TIMEOUT, `local-store: read of ${name} aborted`, {
    entry: name,
    cause: signal.reason,
  });
}

/** A store that does not exist (create: false) is a failure of the source, not a missing entry. */
function missingStore(error: unknown): unknown {
  if (!(error instanceof KeyshiftError) || error.code !== ErrorCodes.SOURCE_NOT_FOUND) return error;
  return new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `local-store: ${error.message}`, {
    cause: error,
    details: error.details,
  });
}

/**
 * The embedded local store (`keyshift/local-store`) as a source: versioned, encrypted at
 * rest, and watched across processes. The store opens lazily on the first `get` or
 * `watch`; a failed open is retried by the next call. A missing secret (or version)
 * resolves undefined; a disabled or destroyed one throws KS_ERR_VERSION_DISABLED, so the
 * core keeps its last-known-good value and alerts (F3). Read at `latest`, versions carry
 * their number as `order`, so the served version never goes backwards.
 */
export function localStore(options: LocalStoreSourceOptions = {}): Source {
  checkSourceOptions('localStore()', options, {
    dir: 'string',
    masterKey: 'bytes',
    create: 'boolean',
    pollIntervalMs: 'ms',
    lockTimeoutMs: 'ms',
    maxValueBytes: 'ms',
    env: 'object',
    version: 'string',
  });
  const { version = 'latest', ...storeOptions } = options;
  const disposers = new Set<() => void>();
  let opening: Promise<LocalStore> | undefined;
  let closed = false;

  const open = (): Promise<LocalStore> => {
    if (closed) return Promise.reject(new KeyshiftError(ErrorCodes.CLOSED, 'local-store: the source is closed'));
    opening ??= openLocalStore(storeOptions).catch((error: unknown) => {
      opening = undefined;
      throw missingStore(error);
    });
    return opening;
  };

  return {
    kind: 'local-store',

    locate: (name) => `secret ${name} of the local store at ${resolveStoreDir(storeOptions.dir, storeOptions.env)}`,

    async get(name, { signal, maxBytes }) {
      if (signal.aborted) throw aborted(name, signal);
      const store = await open();
      try {
        const result = await store.access(name, version, { maxBytes });
        if (signal.aborted) throw aborted(name, signal);
        // at `latest` an older number can only be a stale read; an alias moved back is an explicit rollback: no order
        return { value: result.value, version: String(result.version), ...(version === 'latest' ? { order: result.version } : {}) };
      } catch (error) {
        if (error instanceof KeyshiftError && error.code === ErrorCodes.SOURCE_NOT_FOUND) return undefined;
        throw error;
      }
    },

    async rolloutMarker(name, { signal }) {
      if (signal.aborted) throw aborted(name, signal);
      const store = await open();
      try {
        return parseRolloutMarker(name, (await store.getSecret(name)).annotations[ROLLOUT_ANNOTATION]);
      } catch (error) {
        if (error instanceof KeyshiftError && error.code === ErrorCodes.SOURCE_NOT_FOUND) return undefined;
        throw error;
      }
    },

    async markRollout(name, marker, { signal }) {
      await writeRolloutMarker(await open(), name, marker, signal);
    },

    watch(onChange) {
      let dispose: (() => void) | undefined;
      let active = true;
      const stop = (): void => {
        active = false;
        disposers.delete(stop);
        dispose?.();
      };
      disposers.add(stop);
      open().then(
        (store) => {
          if (active && !closed) dispose = store.watch((event) => onChange([event.name]));
        },
        // The store cannot open yet: get() reports why; watching starts with the next watch().
        () => undefined,
      );
      return stop;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const stop of [...disposers]) stop();
      const store = await opening?.catch(() => undefined);
      opening = undefined;
      await store?.close();
    },
  };
}

