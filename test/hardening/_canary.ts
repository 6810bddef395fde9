/**
 * Plan test 27's canary: a random 32-byte high-entropy string and every encoding it
 * could leak in (base64, base64url, hex, URL-encoded, JSON-escaped, each half of a
 * value split across a JSON object), plus a capture of every output path: stdout,
 * stderr, a logger, every event payload and diagnostics-channel message (as JSON and
 * util.inspect), and thrown errors with their causes, stacks and AggregateError.errors.
 *
 * Failure messages name where a hit was found, never the text around it.
 */
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { CHANNEL_NAMES } from '../../src/core/diagnostics.ts';
import type { EventName } from '../../src/core/events.ts';
import type { Disposer, Logger } from '../../src/types.ts';

export interface Canary {
  /** The raw value (43 characters of base64url: 32 random bytes). */
  readonly value: string;
  /** `{"a": first half, "b": second half}`: a canary split across a JSON object. */
  readonly splitJson: string;
  /** Every form to search for (matched ignoring case). */
  readonly forms: readonly string[];
  /** Every run of PART_LENGTH characters of the value (matched ignoring case): a partial echo. */
  readonly parts: readonly string[];
}

/**
 * A partial echo is caught from this many characters of the value in a row: keyshift's
 * screen withholds from 4 (src/core/_screen.ts); the sweep looks for 8, so that random
 * text (a stack, a path, base64 of another canary) never matches by chance.
 */
export const PART_LENGTH = 8;

/** `hex` makes a canary that is also a valid URL scheme, a host label or an alias. */
export function makeCanary(tag = 'c', alphabet: 'base64url' | 'hex' = 'base64url'): Canary {
  const value = `${tag}${randomBytes(32).toString(alphabet)}`;
  const half = Math.floor(value.length / 2);
  const a = value.slice(0, half);
  const b = value.slice(half);
  const bytes = Buffer.from(value);
  const forms = new Set([
    value,
    bytes.toString('base64'),
    bytes.toString('base64url'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
    a,
    b,
  ]);
  const parts = new Set<string>();
  for (let i = 0; i + PART_LENGTH <= value.length; i++) parts.add(value.slice(i, i + PART_LENGTH).toLowerCase());
  return {
    value,
    splitJson: JSON.stringify({ a, b }),
    forms: [...new Set([...forms].filter((f) => f.length >= 12).map((f) => f.toLowerCase()))],
    parts: [...parts],
  };
}

/** Occurrences of any form of any canary in `text`, ignoring case, plus the runs of PART_LENGTH characters of a value it holds. */
export function hits(text: string, canaries: readonly Canary[]): number {
  const lower = text.toLowerCase();
  let n = 0;
  for (const canary of canaries) {
    for (const form of [...canary.forms, ...canary.parts]) {
      for (let at = lower.indexOf(form); at !== -1; at = lower.indexOf(form, at + 1)) n++;
    }
  }
  return n;
}

/** Everything an error could show: message, stack, inspect (showHidden), JSON, details, the cause chain, AggregateError.errors. */
export function everythingOf(error: unknown, depth = 0): string {
  if (depth > 8 || error === undefined || error === null) return '';
  const parts = [inspect(error, { depth: 8, showHidden: true }), String(error)];
  if (error instanceof Error) {
    parts.push(error.message, String(error.stack));
    try {
      parts.push(JSON.stringify(error), JSON.stringify({ ...error }));
    } catch {
      // a circular error: inspect above has it
    }
    parts.push(everythingOf(error.cause, depth + 1));
    if (error instanceof AggregateError) for (const inner of error.errors) parts.push(everythingOf(inner, depth + 1));
  }
  return parts.join('\n');
}

/** Renders any payload the ways a user might log it: JSON, and util.inspect with hidden fields. */
export function rendered(payload: unknown): string {
  let json: string;
  try {
    json = JSON.stringify(payload) ?? '';
  } catch {
    json = '';
  }
  const errors = typeof payload === 'object' && payload !== null ? Object.values(payload).filter((v) => v instanceof Error) : [];
  return [json, inspect(payload, { depth: 8, showHidden: true }), ...errors.map((e) => everythingOf(e))].join('\n');
}

const EVENTS: readonly EventName[] = ['change', 'rejected', 'error', 'stale', 'recovered', 'fetch', 'ready'];

interface EventSource {
  on(event: EventName, listener: (payload: never) => void): Disposer;
}

/**
 * Records every output path while active. stdout and stderr are teed (still written),
 * so the test runner's own reporting is untouched.
 */
export class Capture {
  readonly #chunks = new Map<string, string[]>();
  readonly #disposers: Array<() => void> = [];

  constructor() {
    for (const stream of [process.stdout, process.stderr]) {
      const label = stream === process.stdout ? 'stdout' : 'stderr';
      const original = stream.write;
      const record = (chunk: unknown): void => this.add(label, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
        record(chunk);
        return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof stream.write;
      this.#disposers.push(() => {
        stream.write = original;
      });
    }
    for (const name of CHANNEL_NAMES) {
      const onMessage = (message: unknown): void => this.add(`channel ${name}`, rendered(message));
      diagnosticsChannel.subscribe(name, onMessage);
      this.#disposers.push(() => diagnosticsChannel.unsubscribe(name, onMessage));
    }
  }

  add(where: string, text: string): void {
    const list = this.#chunks.get(where) ?? [];
    list.push(text);
    this.#chunks.set(where, list);
  }

  /** A pino-shaped logger that records (object, message) as JSON and inspect. */
  logger(label = 'logger'): Logger {
    const log = (level: string) => (obj: Record<string, unknown>, msg: string) => this.add(`${label}.${level}`, `${msg}\n${rendered(obj)}`);
    return { info: log('info'), warn: log('warn'), error: log('error') };
  }

  /** Records every event payload of a manager (or anything with the same `on`). */
  events(source: EventSource, label = 'events'): void {
    for (const event of EVENTS) {
      this.#disposers.push(source.on(event, ((payload: unknown) => this.add(`${label}.${event}`, rendered(payload))) as (p: never) => void));
    }
  }

  /** Records a thrown error (or a rejection) with everything it could show. */
  error(where: string, error: unknown): void {
    this.add(`thrown ${where}`, everythingOf(error));
  }

  /** Runs `fn`, recording what it throws or rejects with. */
  async catching(where: string, fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.error(where, error);
    }
  }

  /** Where each canary form was found: `{ place: count }`, empty when clean. */
  leaks(canaries: readonly Canary[]): Record<string, number> {
    const found: Record<string, number> = {};
    for (const [where, texts] of this.#chunks) {
      const n = hits(texts.join('\n'), canaries);
      if (n > 0) found[where] = n;
    }
    return found;
  }

  /** Places recorded and how many chunks each, for the report. */
  summary(): Record<string, number> {
    return Object.fromEntries([...this.#chunks].map(([where, texts]) => [where, texts.length]));
  }

  /** Characters recorded in all. */
  get size(): number {
    let n = 0;
    for (const texts of this.#chunks.values()) for (const t of texts) n += t.length;
    return n;
  }

  stop(): void {
    for (const dispose of this.#disposers.splice(0).reverse()) dispose();
  }
}
