// The adapters' request types: each framework's own request reaches clientAddress, and
// the middlewares fit each framework's registration call.
import { createServer, type IncomingMessage } from 'node:http';
import express from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import { type Context, Hono } from 'hono';
import { createKeyshift, defineSecrets, t } from 'keyshift';
import { keyshiftAdmin as expressAdmin, keyshiftSnapshot as expressSnapshot } from 'keyshift/adapters/express';
import { keyshiftAdmin as fastifyAdmin, keyshiftSnapshot as fastifySnapshot } from 'keyshift/adapters/fastify';
import { keyshiftAdmin as honoAdmin, keyshiftSnapshot as honoSnapshot } from 'keyshift/adapters/hono';
import { toNodeListener, type WebHandler, withSnapshot } from 'keyshift/adapters/node-http';
import { memorySource } from 'keyshift/testing';
import { type Equal, expectType, value } from './_expect.ts';

const ks = createKeyshift(defineSecrets({ A: { type: t.string() } }), { source: memorySource({}) });
const handler = value<WebHandler>();

export function wiring(): void {
  const app = express();
  app.use(expressSnapshot(ks));
  app.use(
    expressAdmin(handler, {
      clientAddress: (req) => {
        expectType<Equal<typeof req.ip, string | undefined>>();
        const node: IncomingMessage = req;
        return node.socket.remoteAddress;
      },
    }),
  );

  const fastify = Fastify();
  fastify.addHook('onRequest', fastifySnapshot([ks]));
  fastifyAdmin(handler, {
    clientAddress: (request) => {
      expectType<Equal<typeof request, FastifyRequest>>();
      return request.ip;
    },
  });

  const hono = new Hono();
  hono.use(honoSnapshot(ks));
  hono.use(
    honoAdmin(handler, {
      clientAddress: (c) => {
        expectType<Equal<typeof c, Context>>();
        return c.req.header('x-forwarded-for');
      },
    }),
  );

  createServer(withSnapshot(ks, toNodeListener(handler, { clientAddress: (req) => req.socket.remoteAddress })));

  // @ts-expect-error a snapshot pins managers, not names
  expressSnapshot('A');
  // @ts-expect-error the admin handler takes a web Request, not a node request
  toNodeListener((req: IncomingMessage) => Promise.resolve(new Response(req.url)));
  // @ts-expect-error clientAddress gives a string
  honoAdmin(handler, { clientAddress: () => 42 });
}
