import { readsLikeName, shownName } from '../core/shown-name.ts';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createTokenAuth } from '../http/token-auth.ts';
import type { Logger } from '../types.ts';
import { reply, replyError } from './_http-reply.ts';
import type { AgentSnapshot, AgentView } from './agent-view.ts';
import { ChangeWaiters } from './change-waiters.ts';

export interface ReadApiOptions {
  /** Entries the API hands out (others answer 404, as unknown names do). */
  entries: readonly string[];
  /** Required as `Authorization: Bearer` when set (loopback TCP); a Unix socket's mode is its access control. */
  token?: string;
  /** Request lines, refusals and errors: names, statuses and codes only. Default: none. */
  logger?: Logger;
  /** Long polls and event streams open at once; more get 503. Default 256. */
  maxWaiters?: number;
  /** Longest long poll. Default 60,000 ms. */
  maxWaitMs?: number;
}

/** Longest request target accepted (a read-many of many names fits well below). */
export const READ_API_MAX_URL_BYTES = 4096;
const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,254}$/;

export interface ReadApi {
  listener: RequestListener;
  /** Ends long polls and event streams (at shutdown). */
  close(): void;
}

/**
 * The request path as the access log shows it: the query dropped, a path that is no
 * route replaced, and an entry name in `/v1/entries/NAME` kept only when it reads like
 * a name (src/core/shown-name.ts): a client that pastes a value where the name goes
 * must not put it in the agent's log.
 */
function loggedPath(target: string | undefined): string {
  const path = (target ?? '').split('?')[0] ?? '';
  if (path === '/v1/entries' || path === '/v1/changes') return path;
  if (!path.startsWith('/v1/entries/')) return '(not a route)';
  let name: string;
  try {
    name = decodeURIComponent(path.slice('/v1/entries/'.length));
  } catch {
    name = '';
  }
  return readsLikeName(name) ? path : '/v1/entries/(withheld)';
}

/**
 * The agent's local read API, GET only, no request body:
 * - `/v1/entries/NAME`: `{ name, value, version, generation }`;
 * - `/v1/entries?names=A,B` (or all): `{ generation, entries: { A: { value, version } } }`,
 *   every entry from one snapshot of the manager's view;
 * - `/v1/changes?since=G&timeoutMs=N`: a long poll answering `{ generation, changed }`
 *   once something changed after generation G (`changed: []` at the timeout); with
 *   `Accept: text/event-stream`, a stream of `change` events instead.
 * Anything else is a 4xx with `{ error: { code, message } }`; nothing a client sends
 * can crash the agent, and no log line holds a value.
 */
export function createReadApi(view: AgentView, options: ReadApiOptions): ReadApi {
  const allowed = new Set(options.entries);
  const waiters = new ChangeWaiters(view, options.maxWaiters ?? 256);
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const auth = options.token === undefined ? undefined : createTokenAuth(options.token);
  const log = options.logger;

  function readMany(res: ServerResponse, snapshot: AgentSnapshot, names: readonly string[]): true {
    const entries: Record<string, { value: string | null; version: string }> = {};
    for (const name of names) {
      const entry = snapshot.entries.get(name);
      if (!allowed.has(name) || (entry === undefined && !snapshot.withheld.has(name))) return replyError(res, 404, 'unknown_entry', `entry ${shownName(name)} is not handed out by this agent`);
      if (entry === undefined) return replyError(res, 503, 'KS_ERR_STALE', `entry ${name} is past its maxStaleMs and fails closed`);
      entries[name] = { value: entry.value, version: entry.version };
    }
    return reply(res, 200, { generation: snapshot.generation, entries });
  }

  function changes(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): true {
    const since = Number(query.get('since') ?? view.current().generation);
    const timeoutMs = Number(query.get('timeoutMs') ?? 30_000);
    if (!Number.isSafeInteger(since) || since < 0) return replyError(res, 400, 'bad_request', 'since must be a generation (a non-negative integer)');
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0 || timeoutMs > maxWaitMs) return replyError(res, 400, 'bad_request', `timeoutMs must be 0..${maxWaitMs}`);
    if (waiters.full) return replyError(res, 503, 'too_many_waiters', 'too many clients are waiting for changes', { 'retry-after': '1' });
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    if ((req.headers.accept ?? '').includes('text/event-stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      send('hello', { generation: view.current().generation });
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      const stop = waiters.stream(
        (snapshot, changed) => send('change', { generation: snapshot.generation, changed: changed.filter((n) => allowed.has(n)) }),
        () => res.end(),
      );
      gone.signal.addEventListener('abort', () => {
        clearInterval(heartbeat);
        stop();
      });
      return true;
    }
    void waiters.wait(since, timeoutMs, gone.signal).then(({ generation, changed }) => reply(res, 200, { generation, changed: changed.filter((n) => allowed.has(n)) }));
    return true;
  }

  function route(req: IncomingMessage, res: ServerResponse): true {
    const target = req.url ?? '/';
    if (target.length > READ_API_MAX_URL_BYTES) return replyError(res, 414, 'uri_too_long', `request targets are limited to ${READ_API_MAX_URL_BYTES} bytes`);
    if (req.method !== 'GET') return replyError(res, 405, 'method_not_allowed', 'the read API answers GET only', { allow: 'GET' });
    if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined) {
      return replyError(res, 413, 'body_not_allowed', 'requests to the read API carry no body');
    }
    if (auth) {
      const result = auth.check(req.headers.authorization ?? null);
      if (!result.ok) return replyError(res, result.status, 'unauthorized', 'send Authorization: Bearer <token>');
    }
    let url: URL;
    try {
      url = new URL(target, 'http://agent');
    } catch {
      return replyError(res, 400, 'bad_request', 'the request target does not parse');
    }
    const path = url.pathname;
    if (path === '/v1/changes') return changes(req, res, url.searchParams);
    if (path === '/v1/entries') {
      const list = url.searchParams.get('names');
      const names = list === null ? [...allowed] : list.split(',').filter((n) => n !== '');
      if (names.length === 0 || !names.every((n) => NAME.test(n))) return replyError(res, 400, 'bad_request', 'names must be a comma-separated list of entry names');
      return readMany(res, view.current(), names);
    }
    if (path.startsWith('/v1/entries/')) {
      const name = decodeURIComponent(path.slice('/v1/entries/'.length));
      if (!NAME.test(name)) return replyError(res, 400, 'bad_request', 'not an entry name');
      const snapshot = view.current();
      const entry = snapshot.entries.get(name);
      if (entry !== undefined && allowed.has(name)) return reply(res, 200, { name, value: entry.value, version: entry.version, generation: snapshot.generation });
      return readMany(res, snapshot, [name]);
    }
    return replyError(res, 404, 'not_found', 'routes: /v1/entries/NAME, /v1/entries?names=A,B, /v1/changes?since=G');
  }

  return {
    listener(req, res) {
      try {
        route(req, res);
      } catch {
        replyError(res, 400, 'bad_request', 'the request could not be read');
      }
      res.once('finish', () => log?.info({ method: req.method, path: loggedPath(req.url), status: res.statusCode }, 'agent read api'));
    },
    close: () => waiters.close(),
  };
}
