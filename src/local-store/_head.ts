import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_STORE_JOURNAL_SIZE } from '../constants.ts';
import { corrupt, errnoCode } from './_fs-errors.ts';
import { readJsonFile } from './_read-json.ts';
import { FORMAT_VERSION } from './encryption.ts';
import type { StoreEvent } from './types.ts';

/**
 * The head file: a sequence number bumped by every write, and the last few change events.
 * Watchers in every process poll its first bytes for the sequence and read the events they
 * missed. Written under the store lock, replaced atomically, never holds a value.
 */
export const HEAD_FILE = 'head.json';
const KIND = 'keyshift-head';
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

/** Reads the head; an absent file is sequence 0. Throws KS_ERR_STORE_CORRUPT on a malformed one. */
export async function readHead(dir: string): Promise<Head> {
  const path = headPath(dir);
  const parsed = await readJsonFile(path, 'reading', '; it only holds change events, so removing it is safe');
  if (parsed === undefined) return { seq: 0, events: [] };
  const { kind, format, seq, events } = (parsed ?? {}) as Record<string, unknown>;
  if (kind !== KIND || format !== FORMAT_VERSION || typeof seq !== 'number' || !Array.isArray(events)) {
    throw corrupt(path, 'it is not a keyshift head file');
  }
  if (!events.every(isEvent)) throw corrupt(path, 'a change event is malformed');
  return { seq, events };
}

/**
 * The next head file's content: `head` (read earlier under the same lock, before anything
 * changed, so a corrupt head stops a write before it starts) plus `events`.
 */
export function nextHead(head: Head, events: readonly StoreEvent[]): string {
  let seq = head.seq;
  const added = events.map((event) => ({ seq: ++seq, ...event }));
  const kept = [...head.events, ...added].slice(-LOCAL_STORE_JOURNAL_SIZE);
  // `seq` first, so pollers find it in the first bytes.
  return `${JSON.stringify({ seq, kind: KIND, format: FORMAT_VERSION, events: kept })}\n`;
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
