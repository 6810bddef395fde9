import type { KeyshiftError } from '../errors.ts';
import type { Logger } from '../types.ts';
import type { AgentSnapshot, AgentView } from './agent-view.ts';
import type { NotifyResult } from './change-notifier.ts';
import type { FileRenderer } from './file-renderer.ts';
import type { AgentEvent } from './agent-event.ts';

export interface RenderLoopOptions {
  logger: Logger;
  emit: (event: AgentEvent) => void;
  notify: (generation: number, changed: readonly string[]) => Promise<NotifyResult[]>;
  /** Entries whose change needs a render (rendered ones and those templates use). */
  watched: ReadonlySet<string>;
  /** First retry delay after a failed render, doubling to 30 s. Default 1,000 ms. */
  retryMs?: number;
}

/**
 * Renders the view's latest snapshot after each change that touches the files, then
 * notifies. A failed render (full disk, permissions) is logged and emitted, the files of
 * the last good render stay, and the latest snapshot is retried with backoff.
 */
export class RenderLoop {
  readonly #renderer: FileRenderer;
  readonly #view: AgentView;
  readonly #options: RenderLoopOptions;
  #dispose: (() => void) | undefined;
  #pending: string[] = [];
  #running: Promise<void> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #delay: number;
  #closed = false;

  constructor(renderer: FileRenderer, view: AgentView, options: RenderLoopOptions) {
    this.#renderer = renderer;
    this.#view = view;
    this.#options = options;
    this.#delay = options.retryMs ?? 1_000;
  }

  /** The first render: its failure rejects (the agent does not start without its files). */
  async start(): Promise<void> {
    const snapshot = this.#view.current();
    const dir = await this.#renderer.render(snapshot);
    this.#options.emit({ type: 'rendered', generation: snapshot.generation, dir });
    this.#dispose = this.#view.onChange((_, changed) => {
      const relevant = changed.filter((name) => this.#options.watched.has(name));
      if (relevant.length === 0) return;
      this.#pending.push(...relevant);
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#running || this.#closed) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#pending.length > 0 && this.#retry === undefined) this.#kick();
    });
  }

  async #drain(): Promise<void> {
    const changed = [...new Set(this.#pending.splice(0))];
    const snapshot: AgentSnapshot = this.#view.current();
    try {
      const dir = await this.#renderer.render(snapshot);
      this.#delay = this.#options.retryMs ?? 1_000;
      this.#options.emit({ type: 'rendered', generation: snapshot.generation, dir });
      for (const result of await this.#options.notify(snapshot.generation, changed)) {
        if (!result.ok) this.#report('notify-failed', snapshot.generation, result.error);
      }
    } catch (error) {
      this.#report('render-failed', snapshot.generation, error as KeyshiftError);
      this.#pending.unshift(...changed);
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#kick();
      }, this.#delay);
      this.#retry.unref();
      this.#delay = Math.min(this.#delay * 2, 30_000);
    }
  }

  #report(type: 'render-failed' | 'notify-failed', generation: number, error: KeyshiftError): void {
    this.#options.logger.error({ code: error.code, generation }, error.message);
    this.#options.emit({ type, generation, error });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#dispose?.();
    if (this.#retry) clearTimeout(this.#retry);
    await this.#running;
  }
}
