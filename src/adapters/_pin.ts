import { AsyncResource } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import type { SnapshotManager } from '../admin/types.ts';

/** Runs `fn` with one snapshot pinned per manager (nested `ks.run` calls). */
export function runPinned<R>(managers: SnapshotManager | readonly SnapshotManager[], fn: () => R): R {
  const list = [managers].flat() as SnapshotManager[];
  return list.reduceRight<() => R>((inner, ks) => () => ks.run(inner), fn)();
}

/**
 * Makes every event `emitter` emits from now on run in the current async context.
 * Stream events ('data', 'end') are emitted from the socket's context, created before
 * the request was pinned, so body parsers and `req.on('end')` callbacks would lose the
 * snapshot (F9, nodejs/node#35286, nodejs/help#2546). Binding `emit` keeps it.
 */
export function bindEmitter(emitter: EventEmitter): void {
  const resource = new AsyncResource('keyshift:request-snapshot');
  const emit = emitter.emit;
  emitter.emit = function (this: EventEmitter, event: string | symbol, ...args: unknown[]): boolean {
    return resource.runInAsyncScope(emit, this, event, ...args);
  };
}

/**
 * Pins a snapshot for a callback-style request (node:http, Express, Fastify): the pin
 * lasts until the response closes, and the request's and response's events run inside it.
 */
export function pinRequest(
  managers: SnapshotManager | readonly SnapshotManager[],
  req: EventEmitter,
  res: EventEmitter & { writableFinished?: boolean; destroyed?: boolean },
  next: () => void,
): void {
  void runPinned(managers, () => {
    bindEmitter(req);
    bindEmitter(res);
    // The pin is "active" until the promise settles: the response's close ends it.
    const done = new Promise<void>((resolve) => res.once('close', () => resolve()));
    next();
    return done;
  });
}
