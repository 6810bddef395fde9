import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { SnapshotManager } from '../admin/types.ts';
import { pinRequest } from './_pin.ts';
import { requestInfo, toWebRequest, type WebHandler } from './node-http.ts';

export interface FastifyAdminOptions {
  /** The client address for the rate limit. Default `request.ip` (which honours Fastify's `trustProxy`). */
  clientAddress?: (request: FastifyRequest) => string | undefined;
}


/**
 * A Fastify plugin serving the admin handler: `app.register(keyshiftAdmin(handler))`.
 * The plugin's scope leaves bodies unparsed, so the handler applies its own size limit
 * and JSON rules (413 without reading past the limit, 400 with a parse position).
 */
export function keyshiftAdmin(handler: WebHandler & { basePath?: string }, options: FastifyAdminOptions = {}) {
  const base = handler.basePath ?? '/';
  return (instance: FastifyInstance, _opts: unknown, done: (error?: Error) => void): void => {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null, undefined));
    const serve = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const clientAddress = options.clientAddress ? options.clientAddress(request) : request.ip;
      const web = toWebRequest(request.raw);
      const response = await handler(web, requestInfo(request.raw, web, clientAddress));
      reply.code(response.status);
      response.headers.forEach((value, name) => {
        reply.header(name, value);
      });
      if (!request.raw.complete) reply.header('connection', 'close');
      return reply.send(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
    };
    for (const url of [`${base}admin`, `${base}admin/*`, `${base}metrics`, `${base}healthz`, `${base}readyz`]) {
      // every method fastify parses (TRACE included), so the handler answers the ones it does not serve with 405
      instance.route({ method: [...instance.supportedMethods], url, exposeHeadRoute: false, handler: serve });
    }
    done();
  };
}

/**
 * An `onRequest` hook pinning one snapshot of every dynamic value per request:
 * `app.addHook('onRequest', keyshiftSnapshot(ks))`. Reads after body parsing and in
 * stream callbacks see the same values as the request's first read.
 */
export function keyshiftSnapshot(managers: SnapshotManager | readonly SnapshotManager[]): onRequestHookHandler {
  return (request, reply, done) => pinRequest(managers, request.raw, reply.raw, () => done());
}
