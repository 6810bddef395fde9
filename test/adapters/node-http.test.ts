import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { describe, it } from 'node:test';
import { toNodeListener, withSnapshot } from '../../src/adapters/node-http.ts';
import { adapterFixture } from './_fixture.ts';
import { describeAdapter } from './_suite.ts';

describeAdapter('node:http', async (fx, { snapshot }) => {
  // The app: POST /work reads FLAG, then again in the body stream's 'end' callback.
  const work = (req: IncomingMessage, res: ServerResponse): void => {
    const first = fx.ks.get('FLAG');
    fx.markFirstRead();
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ first, second: fx.ks.get('FLAG'), body: JSON.parse(text) }));
    });
  };
  const app = snapshot ? withSnapshot(fx.ks, work) : work;
  const server = createServer(toNodeListener(fx.handler, { fallback: app }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});

describe('node:http: methods that never reach the listener', () => {
  it('a CONNECT is closed by Node (no 500, no crash) and a lowercase token gets 400 from its parser; the server keeps serving', async () => {
    const fx = await adapterFixture();
    const server = createServer(toNodeListener(fx.handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const raw = (line: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(`${line}\r\nHost: admin.test\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
        });
        socket.on('error', reject);
        socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
      });
    try {
      assert.equal(await raw('CONNECT admin.test:443 HTTP/1.1'), '', 'closed without an answer');
      assert.equal(await raw('trace /admin/status HTTP/1.1'), 'HTTP/1.1 400 Bad Request');
      assert.equal(await raw('TRACE /admin/status HTTP/1.1'), 'HTTP/1.1 405 Method Not Allowed');
      assert.equal(await raw('GET /healthz HTTP/1.1'), 'HTTP/1.1 200 OK');
      assert.equal(fx.audit.length, 1, 'only the TRACE reached the handler');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await fx.close();
    }
  });
});
