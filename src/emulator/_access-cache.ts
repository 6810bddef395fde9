/**
 * A read cache for AccessSecretVersion, so that the emulator answers from memory like
 * a real service rather than from the store's files (77 parallel reads otherwise queue
 * on libuv's four file-system threads). Only successful reads are kept. Every write to
 * a secret, through gRPC or seen on the store's change feed, drops the secret's entries
 * and bumps its generation; a read that started before a write is never stored after it.
 * Concurrent misses of one version share one store read (a fleet told of a new version by
 * Pub/Sub asks for it all at once), within one generation only.
 */
import type { AccessResult } from '../local-store/index.ts';

/** Entries kept at most; past this the cache starts over (secrets x versions is small). */
const MAX_ENTRIES = 10_000;

export class AccessCache {
  readonly #entries = new Map<string, Map<string, AccessResult>>();
  readonly #generations = new Map<string, number>();
  readonly #reading = new Map<string, Promise<AccessResult>>();
  #size = 0;

  /** The generation of `secret`, to hand back to set(). */
  generation(secret: string): number {
    return this.#generations.get(secret) ?? 0;
  }

  get(secret: string, selector: string): AccessResult | undefined {
    return this.#entries.get(secret)?.get(selector);
  }

  /** Stores a read unless `secret` was written since `generation` was taken. */
  set(secret: string, selector: string, generation: number, result: AccessResult): void {
    if (this.generation(secret) !== generation) return;
    if (this.#size >= MAX_ENTRIES) this.clear();
    let bySelector = this.#entries.get(secret);
    if (bySelector === undefined) {
      bySelector = new Map();
      this.#entries.set(secret, bySelector);
    }
    if (!bySelector.has(selector)) this.#size += 1;
    bySelector.set(selector, result);
  }

  /**
   * The cached result, else `read()`'s, stored for the next caller. Callers that miss while a
   * read of the same version started in the same generation is in flight share it.
   */
  async read(secret: string, selector: string, read: () => Promise<AccessResult>): Promise<AccessResult> {
    const cached = this.get(secret, selector);
    if (cached !== undefined) return cached;
    const generation = this.generation(secret);
    const key = `${generation}\0${secret}\0${selector}`;
    let pending = this.#reading.get(key);
    if (pending === undefined) {
      pending = read().then((result) => {
        this.set(secret, selector, generation, result);
        return result;
      });
      const settled = (): void => void this.#reading.delete(key);
      pending.then(settled, settled);
      this.#reading.set(key, pending);
    }
    return pending;
  }

  /** Drops what is cached for `secret` (after or during a write to it). */
  invalidate(secret: string): void {
    this.#generations.set(secret, this.generation(secret) + 1);
    this.#size -= this.#entries.get(secret)?.size ?? 0;
    this.#entries.delete(secret);
  }

  clear(): void {
    for (const secret of this.#entries.keys()) this.#generations.set(secret, this.generation(secret) + 1);
    this.#entries.clear();
    this.#size = 0;
  }
}
