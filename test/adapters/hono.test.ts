import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { keyshiftAdmin, keyshiftSnapshot } from '../../src/adapters/hono.ts';
import { describeAdapter } from './_suite.ts';

describeAdapter('Hono', async (fx, { snapshot }) => {
  const app = new Hono<{ Variables: { first: string } }>();
  app.use(keyshiftAdmin(fx.handler));
  if (snapshot) app.use(keyshiftSnapshot(fx.ks));
  app.use(async (c, next) => {
    c.set('first', fx.ks.get('FLAG'));
    fx.markFirstRead();
    await next();
  });
  app.post('/work', async (c) => {
    const body: unknown = await c.req.json();
    return c.json({ first: c.get('first'), second: fx.ks.get('FLAG'), body });
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
