/**
 * `devDefault`: a declaration's value for development and tests, served only when
 * NODE_ENV is `development` or `test` and the store has no value. Never in production
 * (any other NODE_ENV, or none). A served default is marked: its source is `dev-default`
 * in status, events and metrics, and its version is `dev-default`.
 */
import type { Source, SourceValue } from '../types.ts';
import type { Declaration } from './define-secrets.ts';

/** The source name (and version) a served devDefault is reported under. */
export const DEV_DEFAULT_SOURCE = 'dev-default';

/** The NODE_ENV values under which devDefault values are served. */
export const DEV_DEFAULT_NODE_ENVS: readonly string[] = ['development', 'test'];

/** `source`, or when NODE_ENV allows it and entries declare devDefault, `source` with those defaults behind it. */
export function withDevDefaults(source: Source, declaration: Declaration, nodeEnv: string | undefined): Source {
  if (nodeEnv === undefined || !DEV_DEFAULT_NODE_ENVS.includes(nodeEnv)) return source;
  const defaults = new Map<string, string>();
  for (const [name, entry] of Object.entries(declaration)) {
    if (entry.devDefault !== undefined) defaults.set(entry.key ?? name, entry.devDefault);
  }
  if (defaults.size === 0) return source;
  const fill = (key: string, got: SourceValue | undefined): SourceValue | undefined => {
    if (got !== undefined) return got;
    const value = defaults.get(key);
    return value === undefined ? undefined : { value, version: DEV_DEFAULT_SOURCE, source: DEV_DEFAULT_SOURCE };
  };
  const getMany = source.getMany?.bind(source);
  return {
    kind: source.kind,
    get: async (name, options) => fill(name, await source.get(name, options)),
    ...(source.locate ? { locate: (name: string) => (source.locate as (n: string) => string)(name) } : {}),
    ...(getMany
      ? {
          getMany: async (names: readonly string[], options: Parameters<NonNullable<Source['getMany']>>[1]) => {
            const got = await getMany(names, options);
            const out = new Map<string, SourceValue | undefined>();
            for (const [name, value] of got) out.set(name, fill(name, value));
            return out;
          },
        }
      : {}),
    ...(source.watch ? { watch: source.watch.bind(source) } : {}),
    // the canary's markers (docs/adoption.md) stay the store's: a wrapper that dropped them would ignore every halt
    ...(source.rolloutMarker ? { rolloutMarker: source.rolloutMarker.bind(source) } : {}),
    ...(source.markRollout ? { markRollout: source.markRollout.bind(source) } : {}),
    ...(source.close ? { close: source.close.bind(source) } : {}),
  };
}
