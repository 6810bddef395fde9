import type { Keyshift } from '../core/create-keyshift.ts';
import type { Declaration, EntryInfo } from '../core/define-secrets.ts';
import type { EventName, Listener, Trigger } from '../core/events.ts';
import type { ManagerStatus, RefreshResult } from '../core/manager.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { readsLikeName, shownName } from '../core/shown-name.ts';
import type { Disposer } from '../types.ts';

/** What the rotation parts use of a manager, with entry names as plain strings. */
export interface RotationHost {
  readonly name: string;
  readonly entries: readonly EntryInfo[];
  readonly isReady: boolean;
  readonly static: Readonly<Record<string, unknown>>;
  get(name: string): unknown;
  snapshot(): { get(name: string): unknown };
  on<E extends EventName>(event: E, listener: Listener<E>): Disposer;
  refresh(names?: readonly string[], options?: { trigger?: Trigger }): Promise<RefreshResult[]>;
  status(): ManagerStatus;
}

/**
 * A typed manager seen through the name-agnostic interface. The one cast of the
 * rotation folder: `Keyshift<D>` narrows its names to D's keys, which a string
 * parameter cannot express.
 */
export function hostOf<D extends Declaration>(keyshift: Keyshift<D>, owner: string): RotationHost {
  const host = keyshift as unknown as RotationHost;
  if (typeof host?.snapshot !== 'function' || typeof host.on !== 'function' || !Array.isArray(host.entries)) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${owner} needs options.keyshift, a manager from createKeyshift()`);
  }
  return host;
}

/** The declared entry, or a KeyshiftError naming it. */
export function entryOf(host: RotationHost, name: string, owner: string): EntryInfo {
  const entry = host.entries.find((e) => e.name === name);
  if (!entry) {
    throw new KeyshiftError(ErrorCodes.UNKNOWN_ENTRY, `${owner}: entry ${shownName(name)} is not declared in manager ${host.name}`, readsLikeName(name) ? { entry: name } : {});
  }
  return entry;
}

/** The version of each named entry, read from the value-free status. */
export function versionsOf(host: RotationHost, names: readonly string[]): Map<string, string | undefined> {
  const wanted = new Set(names);
  const versions = new Map<string, string | undefined>();
  for (const entry of host.status().entries) if (wanted.has(entry.name)) versions.set(entry.name, entry.version);
  return versions;
}
