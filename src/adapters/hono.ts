import type { Context, MiddlewareHandler } from 'hono';
import type { SnapshotManager } from '../admin/types.ts';
import { runPinned } from './_pin.ts';
import type { WebHandler } from './node-http.ts';

export interface HonoAdminOptions {
  /** The client address for the rate limit. Default: the socket's address under @hono/node-server, else 'unknown'. */
  clientAddress?: (c: Context) => string | undefined;
}

/** @hono/node-server puts the node request in `c.env.incoming`. */
function nodeAddress(c: Context): string | undefined {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return undefined;
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } }).incoming;
  return incoming?.socket?.remoteAddress;
}

/**
 * Serves the admin handler from a Hono app: `app.use(keyshiftAdmin(handler))`. The
 * handler is already web-standard, so this only routes and passes the client address.
 */
export function keyshiftAdmin(handler: WebHandler, options: HonoAdminOptions = {}): MiddlewareHandler {
  return async (c, next) => {
    if (handler.handles && !handler.handles(new URL(c.req.url).pathname)) {
      await next();
      return;
    }
    const clientAddress = options.clientAddress ? options.clientAddress(c) : nodeAddress(c);
    return handler(c.req.raw, clientAddress === undefined ? {} : { clientAddress });
  };
}

/**
 * Pins one snapshot of every dynamic value per request: `app.use(keyshiftSnapshot(ks))`.
 * Hono's body readers are promise-based, so the pin follows every await of the request.
 */
export function keyshiftSnapshot(managers: SnapshotManager | readonly SnapshotManager[]): MiddlewareHandler {
  return (_c, next) => runPinned(managers, () => next());
}
