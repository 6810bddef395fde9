/**
 * Drives the demo services at a steady rate and counts what came back. It uses node:http
 * with a keep-alive agent rather than fetch: it shares the process with the services, so
 * the client side should cost little.
 */
import { Agent, request } from 'node:http';

export interface LoadTarget {
  /** Shown in failure reasons ("PGP_SPLIT1_v1 POST /payment"). */
  readonly name: string;
  readonly url: string;
  readonly method: 'GET' | 'POST';
  /** A fresh JSON body per request. */
  readonly body?: () => unknown;
}

export interface LoadStats {
  /** Requests answered 2xx. */
  ok: number;
  /** Requests answered otherwise, or not answered. */
  failed: number;
  inFlight: number;
  /** The most recent failure: target and status, never a body. */
  lastFailure: string | undefined;
}

export interface LoadOptions {
  /** Round-robin over these. */
  targets: readonly LoadTarget[];
  /** Requests per second, all targets together. Default 100. */
  ratePerSec?: number;
  /** Above this many requests in flight, the generator skips sends instead of queueing (an overloaded machine slows the rate, not the requests). Default 32. */
  maxInFlight?: number;
  /** Deadline of one request. Default 10,000 ms. */
  timeoutMs?: number;
}

export interface LoadGenerator {
  readonly stats: Readonly<LoadStats>;
  /** Stops sending and resolves once every request in flight has settled. */
  stop(): Promise<void>;
}

const TICK_MS = 10;

export function startLoad(options: LoadOptions): LoadGenerator {
  const rate = options.ratePerSec ?? 100;
  const maxInFlight = options.maxInFlight ?? 32;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const stats: LoadStats = { ok: 0, failed: 0, inFlight: 0, lastFailure: undefined };
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  /** Resolves the HTTP status, or the error's name when no response came back. */
  const call = (target: LoadTarget): Promise<number | string> =>
    new Promise((resolve) => {
      const body = target.body === undefined ? undefined : JSON.stringify(target.body());
      const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
      const req = request(target.url, { method: target.method, agent, headers, timeout: timeoutMs }, (res) => {
        res.on('error', () => resolve('ResponseError'));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.resume();
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (error) => resolve(error.message === 'timeout' ? 'Timeout' : ((error as { code?: string }).code ?? error.name)));
      req.end(body);
    });

  const send = (target: LoadTarget): void => {
    stats.inFlight++;
    const settled = call(target).then((outcome) => {
      stats.inFlight--;
      pending.delete(settled);
      if (typeof outcome === 'number' && outcome >= 200 && outcome < 300) stats.ok++;
      else {
        stats.failed++;
        stats.lastFailure = `${target.name}: ${typeof outcome === 'number' ? `HTTP ${outcome}` : outcome}`;
      }
    });
    pending.add(settled);
  };

  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) * rate) / 1_000);
    while (sent < due && stats.inFlight < maxInFlight) {
      send(options.targets[sent % options.targets.length] as LoadTarget);
      sent++;
    }
    if (stats.inFlight >= maxInFlight) sent = due; // overloaded: skip, do not burst later
  }, TICK_MS);

  return {
    stats,
    async stop() {
      clearInterval(timer);
      while (pending.size > 0) await Promise.allSettled([...pending]);
      agent.destroy();
    },
  };
}
