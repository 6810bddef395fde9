import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_STORE_JOURNAL_SIZE } from '../constants.ts';
import { checksumMatches, hasChecksum, serializeWithChecksum } from './_checksum.ts';
import { corrupt, errnoCode, fsError, isCorrupt } from './_fs-errors.ts';
import type { StoreEvent } from './types.ts';

/**
 * The head file: a sequence number bumped by every write, and the last few change events.
 * Watchers in every process poll its first bytes for the sequence and read the events they
 * missed. Written under the store lock, replaced atomically, never holds a value. A
 * SHA-256 checksum covers every byte (format 2); a 0.1.0 head (format 1) has none.
 */
export const HEAD_FILE = 'head.json';
const KIND = 'keyshift-head';
const HEAD_FORMAT = 2;
const LEGACY_FORMAT = 1;
const EVENT_TYPES: readonly string[] = [
  'secret-created',
  'secret-updated',
  'secret-deleted',
  'version-added',
  'version-enabled',
  'version-disabled',
  'version-destroyed',
];

export type JournalEvent = StoreEvent & { seq: number };

export interface Head {
  seq: number;
  events: JournalEvent[];
}

export function headPath(dir: string): string {
  return join(dir, HEAD_FILE);
}

function isEvent(value: unknown): value is JournalEvent {
  if (typeof value !== 'object' || value === null) return false;
  const { seq, type, name, version } = value as Record<string, unknown>;
  if (typeof seq !== 'number' || typeof type !== 'string' || !EVENT_TYPES.includes(type)) return false;
  if (typeof name !== 'string') return false;
  return type.startsWith('version-') ? typeof version === 'number' : version === undefined;
}

/** Reads the head; an absent file is sequence 0. Throws KS_ERR_STORE_CORRUPT on a damaged one. */
export async function readHead(dir: string): Promise<Head> {
  const path = headPath(dir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { seq: 0, events: [] };
    throw fsError(error, 'reading', path);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, `it is not valid JSON (truncated?); it only holds change events, so removing it is safe`, error);
  }
  const { kind, format, seq, events } = (parsed ?? {}) as Record<string, unknown>;
  if (kind !== KIND || (format !== HEAD_FORMAT && format !== LEGACY_FORMAT) || typeof seq !== 'number' || !Array.isArray(events)) {
    throw corrupt(path, 'it is not a keyshift head file');
  }
  if (hasChecksum(text) ? !checksumMatches(text) : format !== LEGACY_FORMAT) throw corrupt(path, 'its checksum does not match');
  if (!events.every(isEvent)) throw corrupt(path, 'a change event is malformed');
  return { seq, events };
}

/**
 * The head a write builds on. A damaged head only held events, so it is replaced rather
 * than allowed to stop every write: the sequence jumps past anything a watcher can have
 * seen (its first bytes, if still readable, plus the journal's length), and the journal
 * starts over, so every watcher finds a gap and re-reads every secret.
 */
export async function headForWrite(dir: string): Promise<Head> {
  try {
    return await readHead(dir);
  } catch (error) {
    if (!isCorrupt(error)) throw error;
    return { seq: ((await peekSeq(dir)) ?? 0) + LOCAL_STORE_JOURNAL_SIZE + 1, events: [] };
  }
}

/**
 * The next head file's content: `head` (read earlier under the same lock, before anything
 * changed) plus `events`.
 */
export function nextHead(head: Head, events: readonly StoreEvent[]): string {
  let seq = head.seq;
  const added = events.map((event) => ({ seq: ++seq, ...event }));
  const kept = [...head.events, ...added].slice(-LOCAL_STORE_JOURNAL_SIZE);
  // `seq` first, so pollers find it in the first bytes.
  return serializeWithChecksum({ seq, kind: KIND, format: HEAD_FORMAT, events: kept });
}

const PEEK_BYTES = 64;

/** The current sequence number from the head file's first bytes: cheap enough to poll. */
export async function peekSeq(dir: string): Promise<number | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(headPath(dir), 'r');
    const buffer = Buffer.alloc(PEEK_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, PEEK_BYTES, 0);
    const match = /^\{"seq":(\d+)/.exec(buffer.toString('utf8', 0, bytesRead));
    return match ? Number(match[1]) : undefined;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 0;
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
