import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AdminRequestInfo, SnapshotManager } from '../admin/types.ts';
import { pinRequest } from './_pin.ts';

/** A web-standard handler such as the one createAdminHandler() returns. */
export type WebHandler = ((request: Request, info?: AdminRequestInfo) => Promise<Response>) & { handles?(pathname: string): boolean };

export interface NodeListenerOptions {
  /** Answers requests the handler does not own (`handler.handles()` is false). Default: the handler answers them (404). */
  fallback?: RequestListener;
  /** The client address for the rate limit. Default: the socket's remoteAddress (set `trust proxy` logic here, if any). */
  clientAddress?: (req: IncomingMessage) => string | undefined;
}

/**
 * The request body as a web stream that reads no further than asked: cancelling it
 * (413, 401) pauses the socket instead of destroying it, so the answer still goes out.
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let cleanup = (): void => {};
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const onData = (chunk: Buffer): void => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) req.pause();
        };
        const onEnd = (): void => {
          cleanup();
          controller.close();
        };
        const onError = (): void => {
          cleanup();
          controller.error(new Error('the request body was aborted'));
        };
        cleanup = () => {
          req.off('data', onData).off('end', onEnd).off('error', onError);
        };
        req.on('data', onData).on('end', onEnd).on('error', onError);
        req.pause();
      },
      pull() {
        req.resume();
      },
      cancel() {
        cleanup();
        req.on('error', () => {}); // a reset of the unread rest must not surface as an unhandled 'error'
        req.pause();
      },
    },
    { highWaterMark: 1 },
  );
}

/** The path of a request target; '' when it does not parse (the handler then answers it). */
export function pathnameOf(target: string | undefined): string {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

const FETCH_FORBIDDEN = /^(?:connect|trace|track)$/i;
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The method a web `Request` can carry for `method`: itself, or OPTIONS when fetch
 * refuses it (CONNECT, TRACE, TRACK, a malformed token). `new Request()` throws on
 * those, which made a TRACE to the admin handler a 500.
 */
function carriedMethod(method: string): string {
  return FETCH_FORBIDDEN.test(method) || !HTTP_TOKEN.test(method) ? 'OPTIONS' : method;
}

/**
 * What an adapter passes as the handler's second argument: the client address, and
 * the method as sent when the web Request carries another one (see carriedMethod and
 * AdminRequestInfo.method).
 */
export function requestInfo(req: IncomingMessage, request: Request, clientAddress: string | undefined): AdminRequestInfo {
  const sent = req.method ?? 'GET';
  return { ...(clientAddress === undefined ? {} : { clientAddress }), ...(sent === request.method ? {} : { method: sent }) };
}

/** A web `Request` for a node request. `url` overrides req.url (Express's originalUrl). `body` replaces a body a framework already read. */
export function toWebRequest(req: IncomingMessage, options: { url?: string; body?: string } = {}): Request {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  const method = carriedMethod(req.method ?? 'GET');
  const url = new URL(options.url ?? req.url ?? '/', 'http://localhost');
  const hasBody = method !== 'GET' && method !== 'HEAD' && (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined);
  if (options.body !== undefined) {
    headers.delete('content-length');
    headers.delete('transfer-encoding');
    return new Request(url, { method, headers, body: hasBody ? options.body : null });
  }
  return new Request(url, { method, headers, body: hasBody ? bodyStream(req) : null, duplex: 'half' } as RequestInit);
}

/** Writes a web `Response` to a node response. Closes the connection if the request body was left unread. */
export async function sendWebResponse(res: ServerResponse, response: Response, req?: IncomingMessage): Promise<void> {
  const body = response.body ? Buffer.from(await response.arrayBuffer()) : undefined;
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  if (req && !req.complete) res.setHeader('connection', 'close');
  res.end(body);
}

/**
 * Serves a web-standard handler on node:http:
 * `http.createServer(toNodeListener(await createAdminHandler({...}))).listen(8787)`.
 */
export function toNodeListener(handler: WebHandler, options: NodeListenerOptions = {}): RequestListener {
  return (req, res) => {
    if (options.fallback && handler.handles && !handler.handles(pathnameOf(req.url))) {
      options.fallback(req, res);
      return;
    }
    const clientAddress = options.clientAddress ? options.clientAddress(req) : req.socket.remoteAddress;
    Promise.resolve()
      .then(() => {
        const request = toWebRequest(req);
        return handler(request, requestInfo(req, request, clientAddress));
      })
      .then((response) => sendWebResponse(res, response, req))
      .catch(() => {
        if (res.headersSent) res.destroy();
        else sendWebResponse(res, Response.json({ error: { code: 'internal', message: 'the request failed' } }, { status: 500 }), req).catch(() => res.destroy());
      });
  };
}

/**
 * Wraps a node:http listener so that every request reads one consistent snapshot of
 * each manager's dynamic values, across awaits, body parsing and stream events, until
 * its response closes.
 */
export function withSnapshot(managers: SnapshotManager | readonly SnapshotManager[], listener: RequestListener): RequestListener {
  return (req, res) => pinRequest(managers, req, res, () => listener(req, res));
}
