/**
 * A local stand-in for the ChangeNow v2 API, for the demo and tests. Like real providers
 * it accepts only the current API key, plus the previous one for a short grace period
 * after a rotation, so a fleet has time to pick the new key up.
 *
 * Its key management is what a provider's account API offers, for a rotation hook
 * (keyshift's externalHook): issueKey() makes a new key that works alongside the current
 * one, and revokeKey() retires the old one (with the same grace period) once the fleet
 * serves the new one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Big from 'big.js';

export interface ChangeNowServerOptions {
  /** The key accepted at start. */
  apiKey: string;
  /** How long the previous key keeps working after rotateKey(). Default 2,000 ms. */
  graceMs?: number;
  /** Monotonic time in ms (inject a fake clock in tests). Default performance.now. */
  now?: () => number;
  /** Port on 127.0.0.1. Default 0 (any free port). */
  port?: number;
}

export interface ChangeNowServerStats {
  /** Calls made with a live key: the current one, or one issued and not revoked. */
  current: number;
  /** Calls made with the previous key inside its grace period. */
  previous: number;
  /** Calls refused with 401 (no key, an unknown key, or a previous key past its grace). */
  refused: number;
}

export interface ChangeNowServer {
  /** The API root to give the client as `baseUrl` (`http://127.0.0.1:PORT/v2`). */
  readonly url: string;
  /** Makes `key` current; the old current key works for `graceMs` more. */
  rotateKey(key: string): void;
  /**
   * Issues a new key, as the provider's account API would: it works alongside the current
   * key (from `activeAfterMs` on: a provider that takes a while to activate keys),
   * and becomes current when the current key is revoked.
   */
  issueKey(options?: { activeAfterMs?: number }): string;
  /**
   * Revokes `key`: it works for `graceMs` more, then is refused. Revoking the current key
   * makes the newest issued key current; it is refused when no key was issued.
   */
  revokeKey(key: string): void;
  readonly stats: Readonly<ChangeNowServerStats>;
  close(): Promise<void>;
}

const RATE_USDT_ETH = new Big('0.00031');

/** Compares fixed-size digests, so neither length nor content leaks through timing. */
function sameKey(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startChangeNowServer(options: ChangeNowServerOptions): Promise<ChangeNowServer> {
  const graceMs = options.graceMs ?? 2_000;
  const now = options.now ?? (() => performance.now());
  const stats: ChangeNowServerStats = { current: 0, previous: 0, refused: 0 };
  let current = options.apiKey;
  let previous: { key: string; until: number } | undefined;
  /** Issued keys, not yet current, with the time each starts working. */
  const issued = new Map<string, number>();

  const authorise = (req: IncomingMessage): boolean => {
    const given = req.headers['x-changenow-api-key'];
    if (typeof given !== 'string') return false;
    if (sameKey(given, current) || [...issued].some(([key, activeAt]) => now() >= activeAt && sameKey(given, key))) {
      stats.current++;
      return true;
    }
    if (previous && now() < previous.until && sameKey(given, previous.key)) {
      stats.previous++;
      return true;
    }
    return false;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed' });
    if (!authorise(req)) {
      stats.refused++;
      return send(res, 401, { error: 'unauthorized', message: 'Invalid api key' });
    }
    const q = url.searchParams;
    if (url.pathname === '/v2/exchange/estimated-amount') {
      const amount = q.get('fromAmount') ?? '';
      if (!/^\d+(?:\.\d+)?$/.test(amount)) return send(res, 400, { error: 'bad_params', message: 'fromAmount' });
      const toAmount = new Big(amount).times(RATE_USDT_ETH).round(8).toString();
      return send(res, 200, { fromCurrency: q.get('fromCurrency'), toCurrency: q.get('toCurrency'), fromAmount: amount, toAmount });
    }
    if (url.pathname === '/v2/exchange/by-id') {
      return send(res, 200, { id: q.get('id') ?? '', status: 'finished' });
    }
    return send(res, 404, { error: 'not_found' });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v2`,
    rotateKey(key) {
      previous = { key: current, until: now() + graceMs };
      current = key;
      issued.delete(key);
    },
    issueKey(issue = {}) {
      const key = `cn_live_${randomBytes(16).toString('hex')}`;
      issued.set(key, now() + (issue.activeAfterMs ?? 0));
      return key;
    },
    revokeKey(key) {
      if (issued.delete(key)) return;
      if (previous?.key === key) {
        previous = undefined;
        return;
      }
      if (key !== current) return;
      const newest = [...issued.keys()].at(-1);
      if (newest === undefined) throw new Error('the current key is the only key: issue a new one before revoking it');
      previous = { key: current, until: now() + graceMs };
      current = newest;
      issued.delete(newest);
    },
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
