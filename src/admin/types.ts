import type { EntryInfo } from '../core/define-secrets.ts';
import type { EventName, Listener, Trigger } from '../core/events.ts';
import type { ManagerStatus, RefreshResult } from '../core/manager.ts';
import type { Disposer } from '../types.ts';

/**
 * What the admin surface needs of a manager: any `Keyshift<D>` from createKeyshift()
 * fits. Only names, versions, statuses and events cross it; never a value.
 */
export interface AdminManager {
  readonly name: string;
  readonly isReady: boolean;
  readonly entries: readonly EntryInfo[];
  status(): ManagerStatus;
  refresh(names?: string | readonly string[], options?: { trigger?: Trigger }): Promise<RefreshResult[]>;
  on<E extends EventName>(event: E, listener: Listener<E>): Disposer;
}

/** What a manager needs to pin a request snapshot: `Keyshift<D>.run`. */
export interface SnapshotManager {
  run<R>(fn: () => R): R;
}

/** Facts about a request that a web-standard `Request` does not carry; the adapter passes them. */
export interface AdminRequestInfo {
  /** The peer's address (the socket's remoteAddress, or what a trusted proxy reported). Keys the auth rate limit. Default 'unknown'. */
  clientAddress?: string;
  /**
   * The method the client sent, when a web Request cannot carry it: fetch refuses
   * CONNECT, TRACE and TRACK, and folds `get` into GET. The node adapters build the
   * Request with OPTIONS and set this; the handler answers it 405. Default: request.method.
   */
  method?: string;
}
