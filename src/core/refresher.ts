import { ErrorCodes, errorKind, KeyshiftError, toKeyshiftError } from '../errors.ts';
import type { Clock, Source, SourceValue } from '../types.ts';
import { decodeText } from './_decode-text.ts';
import { formsOf, screenReason } from './_screen.ts';
import { CodecError } from './codecs/codec.ts';
import { validateWith } from './codecs/json.ts';
import type { EntryState } from './entry-state.ts';
import { Secret } from './redacted.ts';

export type FetchResult =
  | { kind: 'value'; value: unknown; version: string; order?: number | bigint; source: string; fallbackFrom?: KeyshiftError }
  | { kind: 'missing'; source: string }
  | { kind: 'rejected'; version: string; order?: number | bigint; error: KeyshiftError; source: string }
  | { kind: 'failed'; error: KeyshiftError };

export interface FetchContext {
  source: Source;
  clock: Clock;
  timeoutMs: number;
  maxBytes: number;
  /** Aborted by close(): every in-flight call stops. */
  closed: AbortSignal;
}

/**
 * Calls the source under keyshift's own deadline (the Google client's default is
 * 600 s), whether or not the source honours the abort signal, and abandons the call
 * at close(). Never rejects: failures come back as `failed`.
 */
async function callSource(ctx: FetchContext, state: EntryState): Promise<SourceValue | undefined> {
  const { key, name } = state.info;
  const controller = new AbortController();
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let onClose: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = ctx.clock.setTimeout(() => {
      controller.abort();
      reject(
        new KeyshiftError(ErrorCodes.SOURCE_TIMEOUT, `entry ${name}: ${ctx.source.kind} did not answer within ${ctx.timeoutMs} ms`, {
          entry: name,
          details: { timeoutMs: ctx.timeoutMs },
        }),
      );
    }, ctx.timeoutMs);
    onClose = () => {
      controller.abort();
      reject(new KeyshiftError(ErrorCodes.CLOSED, `entry ${name}: fetch abandoned by close()`, { entry: name }));
    };
    if (ctx.closed.aborted) onClose();
    else ctx.closed.addEventListener('abort', onClose, { once: true });
  });
  try {
    const call = ctx.source.get(key, { signal: controller.signal, maxBytes: ctx.maxBytes });
    call.catch(() => {}); // the race below may abandon it; its late rejection must not go unhandled
    return await Promise.race([call, deadline]);
  } finally {
    if (timer !== undefined) ctx.clock.clearTimeout(timer);
    if (onClose) ctx.closed.removeEventListener('abort', onClose);
  }
}

/** The text forms of a payload the screen compares a reason with: its text, and its keys and leaves when it is JSON. */
function payloadForms(raw: string | Uint8Array, text: string | undefined, decoded: unknown): string[] {
  const shown = text ?? (typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
  const forms = [shown];
  if (decoded !== undefined) formsOf(decoded, forms);
  try {
    formsOf(JSON.parse(shown), forms); // a JSON value's keys and strings, unescaped
  } catch {
    // not JSON: its text is enough
  }
  return forms;
}

/**
 * Turns a payload into the entry's value; a CodecError becomes KS_ERR_VALUE_REJECTED
 * naming entry, type and the reason, screened (src/core/_screen.ts): this is the one
 * place every codec's and validator's reason passes before it reaches a message.
 */
export function decodeEntry(state: EntryState, raw: string | Uint8Array, maxBytes: number, version: string): unknown {
  const { name, type, secret } = state.info;
  let text: string | undefined;
  let decoded: unknown;
  try {
    text = decodeText(raw, maxBytes, name);
    const stage = state.validate ? 'validator' : 'codec';
    let value: unknown;
    try {
      decoded = state.codec.decode(text);
      value = state.validate ? validateWith(state.validate, decoded) : decoded;
    } catch (error) {
      if (error instanceof CodecError) throw error;
      // A codec or validator is the user's code and got the value: whatever it threw (an
      // Error whose message, cause or name repeats the value, a string, even a KeyshiftError)
      // is dropped; only its class, screened, is told.
      const kind = screenReason(error instanceof Error ? errorKind(error) : typeof error, payloadForms(raw, text, decoded));
      throw new KeyshiftError(ErrorCodes.INTERNAL, `entry ${name} (${type}) version ${version}: the ${decoded === undefined ? 'codec' : stage} threw ${kind}`, {
        entry: name,
        details: { type, version },
      });
    }
    return secret ? new Secret(value) : value;
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    const reason = screenReason(error.detail, payloadForms(raw, text, decoded), error.context);
    throw new KeyshiftError(ErrorCodes.VALUE_REJECTED, `entry ${name} (${type}) version ${version} rejected: ${reason}`, {
      entry: name,
      details: { type, version, reason },
    });
  }
}

const REJECTING_CODES: ReadonlySet<string> = new Set([ErrorCodes.VALUE_TOO_LARGE, ErrorCodes.CHECKSUM_MISMATCH, ErrorCodes.VALUE_REJECTED]);

/** Decodes what a source returned (or `undefined` for not-found) into a fetch result. */
export function resultOf(ctx: FetchContext, state: EntryState, got: SourceValue | undefined): FetchResult {
  const source = got?.source ?? ctx.source.kind;
  if (got === undefined) return { kind: 'missing', source };
  const order = got.order === undefined ? {} : { order: got.order };
  try {
    const value = decodeEntry(state, got.value, ctx.maxBytes, got.version);
    return { kind: 'value', value, version: got.version, ...order, source, ...(got.fallbackFrom ? { fallbackFrom: got.fallbackFrom } : {}) };
  } catch (error) {
    const err = toKeyshiftError(error, state.info.name);
    return err.code === ErrorCodes.INTERNAL ? { kind: 'failed', error: err } : { kind: 'rejected', version: got.version, ...order, error: err, source };
  }
}

export async function fetchEntry(ctx: FetchContext, state: EntryState): Promise<FetchResult> {
  let got: SourceValue | undefined;
  try {
    got = await callSource(ctx, state);
  } catch (error) {
    const err = toKeyshiftError(error, state.info.name);
    if (REJECTING_CODES.has(err.code)) {
      // the store answered, but with a version we refuse: a rejection, not an outage
      return { kind: 'rejected', version: String(err.details.version ?? 'unknown'), error: err, source: ctx.source.kind };
    }
    return { kind: 'failed', error: err };
  }
  return resultOf(ctx, state, got);
}

/** The startup batch read, when the source has one; never rejects (a failed batch falls back to single gets). */
export async function prefetchMany(ctx: FetchContext, keys: readonly string[]): Promise<ReadonlyMap<string, SourceValue | undefined>> {
  const getMany = ctx.source.getMany;
  if (!getMany || keys.length === 0) return new Map();
  const controller = new AbortController();
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const deadline = new Promise<ReadonlyMap<string, SourceValue | undefined>>((resolve) => {
    timer = ctx.clock.setTimeout(() => {
      controller.abort();
      resolve(new Map());
    }, ctx.timeoutMs);
  });
  try {
    const batch = getMany.call(ctx.source, keys, { signal: controller.signal, maxBytes: ctx.maxBytes });
    return await Promise.race([batch.catch(() => new Map()), deadline]);
  } finally {
    if (timer !== undefined) ctx.clock.clearTimeout(timer);
  }
}
