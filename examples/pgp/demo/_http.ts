/** Small node:http helpers the demo services share. */
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `listener` on 127.0.0.1, on a free port unless one is given. */
export async function listen(listener: RequestListener, port = 0): Promise<Listening> {
  const server = createServer(listener);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Reads a small JSON body; undefined when it is missing, too large or not JSON. */
export async function readJson(req: IncomingMessage, maxBytes = 16 * 1024): Promise<Record<string, unknown> | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A plain decimal string such as "100" or "12.50", as money travels between the services. */
export function amountOf(body: Record<string, unknown> | undefined, field: string): string | undefined {
  const value = body?.[field];
  return typeof value === 'string' && /^\d{1,12}(?:\.\d{1,8})?$/.test(value) ? value : undefined;
}

/**
 * An async request handler as a node listener: a thrown ProviderError (the provider
 * refused or did not answer) is a 502, anything else a 500. Only the status and a
 * value-free message go out.
 */
export function handle(fn: (req: IncomingMessage, res: ServerResponse) => Promise<void>): RequestListener {
  return (req, res) => {
    fn(req, res).catch((error: unknown) => {
      const upstream = error instanceof Error && error.name === 'ProviderError';
      if (!res.headersSent) sendJson(res, upstream ? 502 : 500, { error: upstream ? error.message : 'internal error' });
      else res.destroy();
    });
  };
}
