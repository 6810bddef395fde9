import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SnapshotManager } from '../admin/types.ts';
import { pinRequest } from './_pin.ts';
import { pathnameOf, requestInfo, sendWebResponse, toWebRequest, type WebHandler } from './node-http.ts';

/** Express's request as far as these middlewares read it (no import of express itself). */
interface ExpressRequest extends IncomingMessage {
  originalUrl?: string;
  ip?: string;
  body?: unknown;
}
type Next = (error?: unknown) => void;
type Middleware = (req: ExpressRequest, res: ServerResponse, next: Next) => void;

export interface ExpressAdminOptions {
  /** The client address for the rate limit. Default `req.ip` (which honours Express's `trust proxy` setting). */
  clientAddress?: (req: ExpressRequest) => string | undefined;
}

/**
 * Mounts the admin handler: `app.use(keyshiftAdmin(handler))`. Paths the handler does
 * not own go to `next()`. Mount it before body parsers; if one already read a JSON
 * body, that parsed body is passed on instead.
 */
export function keyshiftAdmin(handler: WebHandler, options: ExpressAdminOptions = {}): Middleware {
  return (req, res, next) => {
    const url = req.originalUrl ?? req.url;
    if (handler.handles && !handler.handles(pathnameOf(url))) {
      next();
      return;
    }
    const consumed = req.readableEnded && req.body !== undefined ? bodyText(req.body) : undefined;
    const clientAddress = options.clientAddress ? options.clientAddress(req) : (req.ip ?? req.socket.remoteAddress);
    Promise.resolve()
      .then(() => toWebRequest(req, { ...(url ? { url } : {}), ...(consumed === undefined ? {} : { body: consumed }) }))
      .then((request) => handler(request, requestInfo(req, request, clientAddress)))
      .then((response) => sendWebResponse(res, response, req))
      .catch(next);
  };
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body);
}

/**
 * Pins one snapshot of every dynamic value per request: `app.use(keyshiftSnapshot(ks))`
 * first, then body parsers and routes. Reads after `express.json()` or inside
 * `req.on('end')` see the same values as the first read of the request.
 */
export function keyshiftSnapshot(managers: SnapshotManager | readonly SnapshotManager[]): Middleware {
  return (req, res, next) => pinRequest(managers, req, res, () => next());
}
