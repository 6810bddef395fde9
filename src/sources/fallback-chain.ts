import { ErrorCodes, KeyshiftError, toKeyshiftError } from '../errors.ts';
import type { Source, SourceValue } from '../types.ts';

export interface FallbackChainOptions {
  /** Fall through to the next source when one fails (not only when it lacks the entry). Default true. */
  onError?: boolean;
}

/**
 * Tries each source in order: the first that has the entry serves it, and its kind
 * is reported as `source` so status shows a fallback. By default a failing source
 * also falls through (the reference platform: store first, then env), so a store
 * outage at startup still starts the service. When every source fails, the first
 * failure is thrown.
 */
export function fallbackChain(sources: readonly Source[], options: FallbackChainOptions = {}): Source {
  if (sources.length === 0) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'fallbackChain() needs at least one source');
  const onError = options.onError ?? true;
  return {
    kind: `fallback(${sources.map((s) => s.kind).join('>')})`,
    async get(name, opts): Promise<SourceValue | undefined> {
      let firstError: KeyshiftError | undefined;
      for (const source of sources) {
        try {
          const got = await source.get(name, opts);
          if (got) return { ...got, source: got.source ?? source.kind, ...(firstError ? { fallbackFrom: firstError } : {}) };
        } catch (error) {
          if (!onError) throw error;
          firstError ??= toKeyshiftError(error, name);
        }
        if (opts.signal.aborted) break;
      }
      if (firstError) throw firstError;
      return undefined;
    },
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
