import { readFileSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { type JournalEvent, headPath, peekSeq, readHead } from './_head.ts';
import type { StoreEvent } from './types.ts';

export interface ChangeFeedOptions {
  /** The store directory (holds the head file). */
  dir: string;
  /** Fallback poll period of the head file's sequence number. */
  pollIntervalMs: number;
  /** Names of every secret, for a resync when events were missed. */
  listNames: () => Promise<string[]>;
  /** Also use fs.watch (turned off only to test the poll alone). Default: true. */
  fsWatch?: boolean;
}

type Listener = (event: StoreEvent) => void;

/** The head file's sequence number right now, read synchronously so watch() has a baseline. */
function currentSeq(dir: string): number {
  try {
    const match = /^\{"seq":(\d+)/.exec(readFileSync(headPath(dir), 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Delivers the store's change events, whichever process wrote them: fs.watch on the store
 * directory for speed, plus a cheap poll of the head file's sequence number because
 * fs.watch misses events on some file systems. Runs only while someone listens; its timer
 * and watcher are unref'd and released by the last disposer.
 */
export class ChangeFeed {
  readonly #options: ChangeFeedOptions;
  readonly #listeners = new Set<Listener>();
  #seq = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #watcher: FSWatcher | undefined;
  #checking = false;
  #again = false;

  constructor(options: ChangeFeedOptions) {
    this.#options = options;
  }

  subscribe(listener: Listener): () => void {
    // A fresh function per subscription, so one listener can subscribe twice.
    const entry: Listener = (event) => listener(event);
    if (this.#listeners.size === 0) this.#start();
    this.#listeners.add(entry);
    return () => {
      if (this.#listeners.delete(entry) && this.#listeners.size === 0) this.#stop();
    };
  }

  /** Checks at once (after a write by this process). */
  poke(): void {
    if (this.#listeners.size > 0) this.#check();
  }

  close(): void {
    this.#listeners.clear();
    this.#stop();
  }

  #start(): void {
    this.#seq = currentSeq(this.#options.dir);
    this.#timer = setInterval(() => this.#check(), this.#options.pollIntervalMs);
    this.#timer.unref();
    if (this.#options.fsWatch === false) return;
    try {
      this.#watcher = fsWatch(this.#options.dir, { persistent: false }, () => this.#check());
      this.#watcher.on('error', () => this.#closeWatcher());
    } catch {
      this.#watcher = undefined; // The poll alone still delivers within pollIntervalMs.
    }
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#closeWatcher();
  }

  #closeWatcher(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  /** One check at a time; a request during a check runs another right after it. */
  #check(): void {
    if (this.#checking) {
      this.#again = true;
      return;
    }
    this.#checking = true;
    this.#again = false;
    this.#checkOnce()
      .catch(() => undefined) // A torn or unreadable head is retried at the next tick.
      .finally(() => {
        this.#checking = false;
        if (this.#again && this.#listeners.size > 0) this.#check();
      });
  }

  async #checkOnce(): Promise<void> {
    const peeked = await peekSeq(this.#options.dir);
    if (peeked === this.#seq) return;
    const head = await readHead(this.#options.dir);
    if (head.seq === this.#seq || this.#listeners.size === 0) return;
    const since = this.#seq;
    this.#seq = head.seq;
    const first = head.events[0];
    const missed = head.seq < since || first === undefined || first.seq > since + 1;
    if (missed) {
      await this.#resync();
      return;
    }
    for (const event of head.events) if (event.seq > since) this.#emit(event);
  }

  /** Events were lost (journal wrapped, head reset): report every secret as updated. */
  async #resync(): Promise<void> {
    for (const name of await this.#options.listNames()) this.#emit({ seq: 0, type: 'secret-updated', name });
  }

  #emit(journalEvent: JournalEvent): void {
    const { seq: _seq, ...event } = journalEvent;
    for (const listener of [...this.#listeners]) {
      try {
        listener(event as StoreEvent);
      } catch {
        // A throwing listener must not stop the feed or the other listeners.
      }
    }
  }
}
