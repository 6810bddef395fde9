import type { ServerResponse } from 'node:http';

/** Writes a JSON answer (true: the request is answered); errors are `{ error: { code, message } }` and never hold a value. */
export function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): true {
  if (res.headersSent || res.destroyed) return true;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
  return true;
}

export function replyError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): true {
  return reply(res, status, { error: { code, message } }, headers);
}
