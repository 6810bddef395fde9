import { type ChannelPart, channelOf } from '../core/diagnostics.ts';
import type { Disposer, Logger } from '../types.ts';
import { errorKind } from '../errors.ts';

/**
 * The small typed emitter of the rotation parts (pool, keyring, runner, scheduler). A
 * listener that throws or rejects is logged and the others still run: a rotation never
 * stops because an alert hook failed (F6). Every event with a channel is also
 * published on `keyshift:<part>:<event>` (core/diagnostics.ts), with `context` (the
 * manager's name) merged in.
 */
export class RotationEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(payload: never) => void>>();

  constructor(
    private readonly owner: string,
    private readonly logger: Logger,
    private readonly part: ChannelPart,
    private readonly context: Readonly<Record<string, string>> = {},
  ) {}

  on<E extends keyof Events>(event: E, listener: (payload: Events[E]) => void): Disposer {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    const fn = listener as (payload: never) => void;
    set.add(fn);
    return () => void set.delete(fn);
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const channel = channelOf(this.part, String(event));
    if (channel?.hasSubscribers) channel.publish({ ...this.context, ...payload });
    this.deliver(event, payload);
  }

  /** Calls the listeners only: for events another emitter already published (the scheduler forwarding its runner's). */
  deliver<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        const result: unknown = (listener as (payload: Events[E]) => unknown)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.#failed(event, error));
      } catch (error) {
        this.#failed(event, error);
      }
    }
  }

  #failed(event: keyof Events, cause: unknown): void {
    const kind = cause instanceof Error ? errorKind(cause) : typeof cause;
    this.logger.error({ owner: this.owner, event: String(event) }, `a "${String(event)}" listener of ${this.owner} threw ${kind}`);
  }
}
