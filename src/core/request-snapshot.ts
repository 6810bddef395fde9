import { AsyncLocalStorage } from 'node:async_hooks';

/** One immutable view of every dynamic value: swapped whole on change, never edited (F8). */
export type View = ReadonlyMap<string, unknown>;

/**
 * Pins a view for the duration of a request through AsyncLocalStorage. While no
 * request is pinned, reads skip the AsyncLocalStorage lookup entirely, so the read
 * outside a request stays a Map.get.
 */
export class RequestSnapshots {
  readonly #als = new AsyncLocalStorage<View>();
  #active = 0;
  /** Reads made while requests were pinned but outside any of them (F9: a lost context). */
  outsideReads = 0;

  get active(): boolean {
    return this.#active > 0;
  }

  /** The pinned view, or `current` when the caller is outside every request. */
  viewOr(current: View): View {
    const pinned = this.#als.getStore();
    if (pinned !== undefined) return pinned;
    this.outsideReads++;
    return current;
  }

  run<R>(view: View, fn: () => R): R {
    this.#active++;
    let result: R;
    try {
      result = this.#als.run(view, fn);
    } catch (error) {
      this.#active--;
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => {
        this.#active--;
      }) as R;
    }
    this.#active--;
    return result;
  }
}
