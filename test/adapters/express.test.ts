import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { keyshiftAdmin, keyshiftSnapshot } from '../../src/adapters/express.ts';
import { describeAdapter } from './_suite.ts';

describeAdapter('Express', async (fx, { snapshot }) => {
  const app = express();
  app.use(keyshiftAdmin(fx.handler));
  if (snapshot) app.use(keyshiftSnapshot(fx.ks));
  app.use((_req, res, next) => {
    res.locals.first = fx.ks.get('FLAG');
    fx.markFirstRead();
    next();
  });
  app.use(express.json());
  app.post('/work', (req, res) => {
    res.json({ first: res.locals.first, second: fx.ks.get('FLAG'), body: req.body });
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
