import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeListener, withSnapshot } from '../../src/adapters/node-http.ts';
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
