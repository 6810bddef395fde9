import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { formatRolloutMarker, parseRolloutMarker } from '../core/adoption.ts';
import type { Source } from '../types.ts';
import { checkSourceOptions } from './_check-source-options.ts';

/** A fault a memory source can be told to fail with: a code, or a call that never answers. */
export type MemoryFault = { code: (typeof ErrorCodes)[keyof typeof ErrorCodes]; retryAfterMs?: number } | 'hang';

export interface MemorySource extends Source {
  /** Adds a version; returns its number (also its `order`: versions grow). Watchers hear of it. */
  set(name: string, value: string | Uint8Array): string;
  delete(name: string): void;
  /** Makes every get fail with this fault until cleared with undefined. */
  fail(fault: MemoryFault | undefined): void;
  /** Adds latency (ms, on the real clock, or on `delay` when given). */
  latency(ms: number): void;
  /** Store calls made so far, by name. */
  readonly calls: ReadonlyMap<string, number>;
  readonly totalCalls: number;
  /** Sets the stored rollout marker text as another tool might (undefined removes it); watchers hear of it. */
  setRolloutMarker(name: string, text: string | undefined): void;
}

export interface MemorySourceOptions {
  /** Initial values. */
  values?: Record<string, string>;
  /** Waits `ms` (override to use a fake clock). Default setTimeout. */
  delay?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function realDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** An in-memory, versioned source with fault injection: for tests (keyshift/testing) and the bench. */
export function memorySource(options: MemorySourceOptions = {}): MemorySource {
  checkSourceOptions('memorySource()', options, { values: 'object', delay: 'function' });
  for (const [name, value] of Object.entries(options.values ?? {})) {
    if (typeof value !== 'string') throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `memorySource(): values.${name} must be a string (the stored text)`);
  }
  const versions = new Map<string, { value: string | Uint8Array; version: string; order: number }>();
  const counters = new Map<string, number>();
  const watchers = new Set<(names?: readonly string[]) => void>();
  const markers = new Map<string, string>();
  const delay = options.delay ?? realDelay;
  let fault: MemoryFault | undefined;
  let latencyMs = 0;
  let total = 0;
  let seq = 0;
  const source: MemorySource = {
    kind: 'memory',
    async get(name, { signal }) {
      total++;
      counters.set(name, (counters.get(name) ?? 0) + 1);
      if (latencyMs > 0) await delay(latencyMs, signal);
      if (fault === 'hang') {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        throw new KeyshiftError(ErrorCodes.SOURCE_TIMEOUT, `memory: ${name} hung until aborted`);
      }
      if (fault) {
        const details: Record<string, number> = fault.retryAfterMs === undefined ? {} : { retryAfterMs: fault.retryAfterMs };
        throw new KeyshiftError(fault.code, `memory: injected ${fault.code} for ${name}`, { entry: name, details });
      }
      return versions.get(name);
    },
    async rolloutMarker(name) {
      return parseRolloutMarker(name, markers.get(name));
    },
    async markRollout(name, marker) {
      source.setRolloutMarker(name, marker === undefined ? undefined : formatRolloutMarker(marker));
    },
    setRolloutMarker(name, text) {
      if (text === undefined) markers.delete(name);
      else markers.set(name, text);
      for (const w of [...watchers]) w([name]);
    },
    watch(onChange) {
      watchers.add(onChange);
      return () => void watchers.delete(onChange);
    },
    set(name, value) {
      const order = ++seq;
      const version = String(order);
      versions.set(name, { value, version, order });
      for (const w of [...watchers]) w([name]);
      return version;
    },
    delete(name) {
      versions.delete(name);
    },
    fail(next) {
      fault = next;
    },
    latency(ms) {
      latencyMs = ms;
    },
    get calls() {
      return counters;
    },
    get totalCalls() {
      return total;
    },
  };
  for (const [name, value] of Object.entries(options.values ?? {})) source.set(name, value);
  return source;
}
