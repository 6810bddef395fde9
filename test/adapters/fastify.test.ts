import Fastify from 'fastify';
import { keyshiftAdmin, keyshiftSnapshot } from '../../src/adapters/fastify.ts';
import { describeAdapter } from './_suite.ts';

describeAdapter('Fastify', async (fx, { snapshot }) => {
  const app = Fastify();
  await app.register(keyshiftAdmin(fx.handler));
  if (snapshot) app.addHook('onRequest', keyshiftSnapshot(fx.ks));
  app.decorateRequest('first', '');
  app.addHook('onRequest', (request, _reply, done) => {
    (request as unknown as { first: string }).first = fx.ks.get('FLAG');
    fx.markFirstRead();
    done();
  });
  app.post('/work', async (request) => ({
    first: (request as unknown as { first: string }).first,
    second: fx.ks.get('FLAG'),
    body: request.body,
  }));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
}, { unrouted: ['PROPFIND', 'M-SEARCH'] }); // fastify answers 404 for a method it has no router for (fastify.addHttpMethod adds one)
