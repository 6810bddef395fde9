import type { Keyshift } from '../core/create-keyshift.ts';
import type { Declaration } from '../core/define-secrets.ts';
import { reveal } from '../core/redacted.ts';
import type { Disposer } from '../types.ts';

/** One entry as the agent hands it over: the text of the version the manager serves. */
export interface AgentEntryValue {
  /** The normalized text; null for an optional entry that is absent. */
  readonly value: string | null;
  readonly version: string;
}

/** One consistent view: every entry at the same moment of the manager's view, and its generation. */
export interface AgentSnapshot {
  /** Goes up by one at every change the agent sees. */
  readonly generation: number;
  readonly entries: ReadonlyMap<string, AgentEntryValue>;
  /** Fail-closed entries past their maxStaleMs: withheld until they recover. */
  readonly withheld: ReadonlySet<string>;
  /** The generation at which each entry last changed. */
  readonly changedAt: ReadonlyMap<string, number>;
}

export type ViewListener = (snapshot: AgentSnapshot, changed: readonly string[]) => void;

type Reader = { get(name: string): unknown; static: Readonly<Record<string, unknown>>; status(): { entries: readonly { name: string; version: string | undefined }[] } };

function textOf(value: unknown): string | null {
  const plain = reveal(value);
  return plain === null ? null : String(plain);
}

/**
 * The agent's mirror of a ready manager's view, with versions and a generation: built
 * synchronously inside the manager's `change`, `stale` and `recovered` events, so each
 * snapshot is one moment of the manager's view (never half old, half new). Immutable
 * snapshots are swapped by reference, as the manager swaps its view.
 */
export class AgentView {
  #snapshot: AgentSnapshot;
  readonly #listeners = new Set<ViewListener>();
  readonly #disposers: Disposer[] = [];
  readonly #ks: Reader;

  constructor(ks: Keyshift<Declaration>) {
    this.#ks = ks as unknown as Reader;
    const versions = new Map(this.#ks.status().entries.map((e) => [e.name, e.version ?? 'absent']));
    const entries = new Map<string, AgentEntryValue>();
    for (const info of ks.entries) {
      const value = info.kind === 'static' ? this.#ks.static[info.name] : this.#ks.get(info.name);
      entries.set(info.name, { value: textOf(value), version: versions.get(info.name) ?? 'absent' });
    }
    this.#snapshot = { generation: 1, entries, withheld: new Set(), changedAt: new Map([...entries.keys()].map((n) => [n, 1])) };
    this.#disposers.push(
      ks.on('change', ({ name, version }) => this.#apply(name, { value: textOf(this.#ks.get(name)), version })),
      ks.on('stale', ({ name, exceeded, failClosed }) => {
        if (exceeded && failClosed) this.#apply(name, undefined);
      }),
      ks.on('recovered', ({ name }) => {
        if (!this.#snapshot.withheld.has(name)) return;
        const version = this.#ks.status().entries.find((e) => e.name === name)?.version ?? 'absent';
        this.#apply(name, { value: textOf(this.#ks.get(name)), version });
      }),
    );
  }

  /** The current snapshot (a reference: it never changes). */
  current(): AgentSnapshot {
    return this.#snapshot;
  }

  /** Called after each change with the new snapshot and the names that changed. Returns a disposer. */
  onChange(listener: ViewListener): Disposer {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #apply(name: string, next: AgentEntryValue | undefined): void {
    const prev = this.#snapshot;
    const entries = new Map(prev.entries);
    const withheld = new Set(prev.withheld);
    if (next === undefined) {
      entries.delete(name);
      withheld.add(name);
    } else {
      entries.set(name, next);
      withheld.delete(name);
    }
    const generation = prev.generation + 1;
    this.#snapshot = { generation, entries, withheld, changedAt: new Map(prev.changedAt).set(name, generation) };
    for (const listener of this.#listeners) {
      try {
        listener(this.#snapshot, [name]);
      } catch {
        // a sink's failure is its own (it reports through its own events); the others still run
      }
    }
  }

  close(): void {
    for (const dispose of this.#disposers.splice(0)) dispose();
    this.#listeners.clear();
  }
}

/** Names whose value changed after `generation`. */
export function changedSince(snapshot: AgentSnapshot, generation: number): string[] {
  return [...snapshot.changedAt].filter(([, at]) => at > generation).map(([name]) => name);
}
