import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { errnoCode, fsError } from './_fs-errors.ts';

/** What a lock file holds: who owns it, and a token only that owner knows. */
interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

export interface FileLockOptions {
  /** Give up after this long (KS_ERR_SOURCE_UNAVAILABLE). */
  timeoutMs: number;
  /** A lock older than this is broken, whoever holds it (locks are held for milliseconds). */
  staleMs: number;
}

/** Waiters look at the owner of a lock only after waiting this long (and then this often). */
const STALE_CHECK_AFTER_MS = 100;
/** Retry delays double from 1 ms up to this (jittered ±50 %). */
const MAX_RETRY_DELAY_MS = 4;

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner: unknown = JSON.parse(text);
    if (typeof owner !== 'object' || owner === null) return undefined;
    const { pid, host, token } = owner as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof host !== 'string' || typeof token !== 'string') return undefined;
    return { pid, host, token };
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/**
 * Is the lock at `path` abandoned? It is older than `staleMs`, or its owner is a process on
 * this host that is gone. Resolves the text seen, so the breaker can check it broke that
 * very lock.
 */
async function staleLock(path: string, staleMs: number): Promise<string | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    // Old enough is stale whoever holds it (locks live milliseconds; a pid may be reused
    // or belong to another container sharing the volume under the same host name).
    if (Date.now() - info.mtimeMs > staleMs) return text;
    const owner = parseOwner(text);
    return owner !== undefined && owner.host === hostname() && !processAlive(owner.pid) ? text : undefined;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw fsError(error, 'reading the lock', path);
  }
}

/**
 * Breaks an abandoned lock by renaming it aside (atomic), then checks that what was moved
 * is the lock judged stale; if a live owner took the lock in between, it is put back.
 */
async function breakLock(path: string, seen: string): Promise<void> {
  const aside = `${path}.stale-${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw fsError(error, 'breaking the stale lock', path);
  }
  const moved = await readFile(aside, 'utf8').catch(() => seen);
  if (moved !== seen) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

async function tryAcquire(path: string, owner: LockOwner): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw fsError(error, 'creating the lock', path);
  }
  try {
    await handle.writeFile(JSON.stringify(owner));
  } finally {
    await handle.close();
  }
  return true;
}

async function release(path: string, owner: LockOwner): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '');
  if (parseOwner(text)?.token === owner.token) await unlink(path).catch(() => undefined);
}

/**
 * Runs `fn` holding an exclusive lock file (O_EXCL create) shared by every process on the
 * store. Waits with a short jittered backoff; recovers locks whose owner died.
 */
export async function withFileLock<T>(path: string, options: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(12).toString('hex') };
  const started = performance.now();
  const deadline = started + options.timeoutMs;
  let nextStaleCheck = started + STALE_CHECK_AFTER_MS;
  let delayMs = 1;
  while (!(await tryAcquire(path, owner))) {
    const now = performance.now();
    // Locks are held for milliseconds: only a wait this long is worth checking the owner.
    if (now >= nextStaleCheck) {
      nextStaleCheck = now + STALE_CHECK_AFTER_MS;
      const seen = await staleLock(path, options.staleMs);
      if (seen !== undefined) {
        await breakLock(path, seen);
        continue;
      }
    }
    if (now >= deadline) {
      const holder = parseOwner(await readFile(path, 'utf8').catch(() => ''));
      throw new KeyshiftError(
        ErrorCodes.SOURCE_UNAVAILABLE,
        `could not take the store lock ${path} within ${options.timeoutMs} ms` +
          (holder === undefined ? '' : ` (held by pid ${holder.pid} on ${holder.host})`),
        { details: { path } },
      );
    }
    await sleep(delayMs * (0.5 + Math.random()));
    delayMs = Math.min(delayMs * 2, MAX_RETRY_DELAY_MS);
  }
  try {
    return await fn();
  } finally {
    await release(path, owner);
  }
}
