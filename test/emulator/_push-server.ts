/** A loopback HTTP server that hands each request, as a web Request, to a push handler. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PushServer {
  url: string;
  /** Every envelope received, parsed, in arrival order. */
  received: unknown[];
  close(): Promise<void>;
}

export async function startPushServer(handler: (request: Request) => Promise<Response>): Promise<PushServer> {
  const received: unknown[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        received.push(JSON.parse(body.toString('utf8')));
      } catch {
        received.push(undefined);
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const request = new Request(`http://127.0.0.1${req.url}`, {
        method: req.method,
        headers,
        body: hasBody ? new Uint8Array(body) : null,
      });
      handler(request).then(
        async (response) => {
          const headers: Record<string, string> = {};
          response.headers.forEach((value, key) => {
            headers[key] = value;
          });
          res.writeHead(response.status, headers);
          res.end(Buffer.from(await response.arrayBuffer()));
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/pubsub/push`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
