import { ErrorCodes, errorKind, KeyshiftError, valueFreeCause } from '../errors.ts';
import type { Disposer, Logger } from '../types.ts';
import { channels } from './diagnostics.ts';
import type { EventName, KeyshiftEvents, Listener } from './events.ts';

/**
 * A typed emitter whose listeners cannot hurt it: a listener that throws (or returns
 * a rejected promise) is reported as an `error` event and the others still run (F6).
 * Every event is also published on its diagnostics channel (`keyshift:manager:<event>`)
 * with the manager's name.
 */
export class Emitter {
  readonly #listeners = new Map<EventName, Set<(payload: never) => void>>();
  #muted = false;

  constructor(
    private readonly manager: string,
    private readonly logger: Logger,
  ) {}

  on<E extends EventName>(event: E, listener: Listener<E>): Disposer {
    if (!Object.hasOwn(channels, event)) {
      const known = Object.keys(channels).join(', ');
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `on(): unknown event ${JSON.stringify(String(event))} (the events are ${known})`);
    }
    if (typeof listener !== 'function') throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `on('${event}'): the listener must be a function`);
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    const fn = listener as (payload: never) => void;
    set.add(fn);
    return () => void set.delete(fn);
  }

  /** After close(): nothing more is delivered. */
  mute(): void {
    this.#muted = true;
  }

  emit<E extends EventName>(event: E, payload: KeyshiftEvents[E]): void {
    if (this.#muted) return;
    const channel = channels[event];
    if (channel.hasSubscribers) channel.publish({ manager: this.manager, ...payload });
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        const result: unknown = (listener as Listener<E>)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.#listenerFailed(event, error));
      } catch (error) {
        this.#listenerFailed(event, error);
      }
    }
  }

  #listenerFailed(event: EventName, cause: unknown): void {
    // a listener was handed the value (a change event's secret): what it threw is not copied
    const kind = cause instanceof Error ? errorKind(cause) : typeof cause;
    const error = new KeyshiftError(ErrorCodes.INTERNAL, `a "${event}" listener threw ${kind}`, { cause: valueFreeCause(cause) });
    if (event === 'error') {
      this.logger.error({ code: error.code, event }, error.message);
      return;
    }
    this.emit('error', { name: undefined, error, trigger: 'listener', consecutiveFailures: 0 });
  }
}
