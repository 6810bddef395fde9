/**
 * List paging as the real service does it: `page_size` (0 means the maximum, 25,000),
 * an opaque `page_token`, `next_page_token` empty on the last page, and `total_size`.
 * Filters are not supported: a list call with one is UNIMPLEMENTED, never silently wrong.
 */
import { invalidArgument, StatusError } from './_status.ts';

/** ListSecrets / ListSecretVersions page size cap, as the real service documents. */
const MAX_PAGE_SIZE = 25_000;

export interface Page<T> {
  items: T[];
  nextPageToken: string;
  totalSize: number;
}

export function paginate<T>(all: T[], request: Record<string, unknown>): Page<T> {
  if (typeof request.filter === 'string' && request.filter !== '') {
    throw new StatusError('UNIMPLEMENTED', 'The emulator does not support list filters.');
  }
  const size = Math.min(Number(request.pageSize ?? 0) || MAX_PAGE_SIZE, MAX_PAGE_SIZE);
  if (size < 0) throw invalidArgument('page_size must not be negative.');
  const token = typeof request.pageToken === 'string' ? request.pageToken : '';
  const offset = token === '' ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > all.length) throw invalidArgument('Invalid page_token.');
  const end = offset + size;
  const nextPageToken = end < all.length ? Buffer.from(String(end)).toString('base64url') : '';
  return { items: all.slice(offset, end), nextPageToken, totalSize: all.length };
}

