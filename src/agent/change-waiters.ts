import type { AgentSnapshot, AgentView } from './agent-view.ts';
import { changedSince } from './agent-view.ts';

/** Long polls and event streams waiting on the view, with a cap on how many wait at once. */
export class ChangeWaiters {
  readonly #view: AgentView;
  readonly #max: number;
  readonly #waiting = new Set<{ wake(snapshot: AgentSnapshot): void; end(): void }>();
  readonly #dispose: () => void;

  constructor(view: AgentView, max: number) {
    this.#view = view;
    this.#max = max;
    this.#dispose = view.onChange((snapshot) => {
      for (const waiter of [...this.#waiting]) waiter.wake(snapshot);
    });
  }

  get size(): number {
    return this.#waiting.size;
  }

  get full(): boolean {
    return this.#waiting.size >= this.#max;
  }

  /**
   * Resolves the names changed after `since` as soon as there are any (at once if already),
   * or [] after `timeoutMs`, or when `signal` aborts (the client went away).
   */
  wait(since: number, timeoutMs: number, signal: AbortSignal): Promise<{ generation: number; changed: string[] }> {
    const now = this.#view.current();
    const already = changedSince(now, since);
    if (already.length > 0 || now.generation < since) return Promise.resolve({ generation: now.generation, changed: already });
    return new Promise((resolve) => {
      const done = (snapshot: AgentSnapshot) => {
        this.#waiting.delete(waiter);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve({ generation: snapshot.generation, changed: changedSince(snapshot, since) });
      };
      const wake = (snapshot: AgentSnapshot) => {
        if (changedSince(snapshot, since).length > 0) done(snapshot);
      };
      const onAbort = () => done(this.#view.current());
      const waiter = { wake, end: onAbort };
      const timer = setTimeout(onAbort, timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.add(waiter);
    });
  }

  /** Calls `listener` at every change, and `end` at close(), until the returned function is called. Counts toward the cap. */
  stream(listener: (snapshot: AgentSnapshot, changed: readonly string[]) => void, end: () => void): () => void {
    const waiter = { wake: (snapshot: AgentSnapshot) => listener(snapshot, changedSince(snapshot, snapshot.generation - 1)), end };
    this.#waiting.add(waiter);
    return () => this.#waiting.delete(waiter);
  }

  /** Answers every long poll (with what changed, if anything) and ends every stream. */
  close(): void {
    this.#dispose();
    for (const waiter of [...this.#waiting]) waiter.end();
    this.#waiting.clear();
  }
}
