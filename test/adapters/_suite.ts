import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { adapterFixture, auth, exchange, slowPost } from './_fixture.ts';

export type Fixture = Awaited<ReturnType<typeof adapterFixture>>;

/**
 * What every adapter's test app serves: the admin handler, and (with `snapshot`) the
 * snapshot middleware, then a middleware that reads FLAG and calls `fx.markFirstRead()`,
 * a JSON body parser, and `POST /work` answering `{ first, second, body }` where
 * `second` is read after the body was parsed.
 */
export type StartApp = (fx: Fixture, options: { snapshot: boolean }) => Promise<{ url: string; close(): Promise<void> }>;

/** Sends one raw request line (any method token, as a scanner would) and reads the status line and headers. */
function rawRequest(url: string, method: string, path: string, extra = ''): Promise<{ status: number; head: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: admin.test\r\nConnection: close\r\n${extra}\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const head = text.split('\r\n\r\n')[0] ?? '';
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head: head.toLowerCase() });
    });
  });
}

/** Methods the framework itself answers before the handler sees them (Fastify: 404 for a method it has no router for, such as PROPFIND). */
export interface AdapterTraits {
  unrouted?: readonly string[];
}

export function describeAdapter(name: string, start: StartApp, traits: AdapterTraits = {}): void {
  const withApp = async (snapshot: boolean, fn: (fx: Fixture, url: string) => Promise<void>) => {
    const fx = await adapterFixture();
    const app = await start(fx, { snapshot });
    try {
      await fn(fx, app.url);
    } finally {
      await app.close();
      await fx.close();
    }
  };

  describe(`Adapter: ${name}`, () => {
    it('serves the admin routes with the client address, and passes other paths to the app', async () => {
      await withApp(true, async (fx, url) => {
        const status = await exchange(`${url}/admin/status`, { headers: auth });
        assert.equal(status.status, 200);
        assert.match(status.headers['content-type'] as string, /application\/json/);
        assert.equal(JSON.parse(status.body).managers[0].name, 'adapter-svc');
        assert.equal((await exchange(`${url}/admin/status`)).status, 401);
        assert.equal((await exchange(`${url}/healthz`)).status, 200);
        const metrics = await exchange(`${url}/metrics`, { headers: auth });
        assert.match(metrics.body, /keyshift_ready\{manager="adapter-svc"\} 1/);
        assert.match(fx.audit[0] ?? '', /127\.0\.0\.1/);
        const work = await slowPost(`${url}/work`, '{"n":1}', async () => {});
        assert.deepEqual(JSON.parse(work.body), { first: 'A', second: 'A', body: { n: 1 } });
      });
    });

    it('applies the handler body rules: 200, 400 with a position, 415, 413 closing the connection', async () => {
      await withApp(true, async (_fx, url) => {
        const post = (body: string, type = 'application/json') =>
          exchange(`${url}/admin/refresh`, { method: 'POST', headers: { ...auth, 'content-type': type }, body });
        const ok = await post('{"names":["FLAG"]}');
        assert.equal(ok.status, 200, ok.body);
        assert.equal(JSON.parse(ok.body).results[0].name, 'FLAG');
        const bad = await post('{"names":[FLAG]}');
        assert.equal(bad.status, 400);
        assert.match(bad.body, /position 10/);
        assert.equal((await post('names=FLAG', 'application/x-www-form-urlencoded')).status, 415);
        const big = await post(JSON.stringify({ names: ['FLAG'], pad: 'x'.repeat(20_000) }));
        assert.equal(big.status, 413);
        assert.equal(big.headers.connection, 'close');
        const empty = await exchange(`${url}/admin/refresh`, { method: 'POST', headers: auth });
        assert.equal(empty.status, 200);
      });
    });

    it('issue 12.6: a method no route serves gets 405 with Allow and an audit line, never a 500, with or without a token', async () => {
      await withApp(true, async (fx, url) => {
        const methods = ['TRACE', 'PUT', 'DELETE', 'OPTIONS', 'PROPFIND', 'M-SEARCH'].filter((m) => !traits.unrouted?.includes(m));
        for (const method of methods) {
          for (const [path, allow] of [
            ['/admin/status', 'get, head'],
            ['/admin/refresh', 'post'],
            ['/healthz', 'get, head'],
          ] as const) {
            const before = fx.audit.length;
            for (const extra of ['', `authorization: ${auth.authorization}\r\n`]) {
              const reply = await rawRequest(url, method, path, extra);
              assert.equal(reply.status, 405, `${method} ${path}: ${reply.head}`);
              assert.match(reply.head, new RegExp(`\\r\\nallow: ${allow}\\r\\n`), `${method} ${path}: Allow`);
            }
            const lines = fx.audit.slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);
            assert.equal(lines.length, 2, `${method} ${path}: one audit line per request`);
            for (const line of lines) {
              assert.deepEqual([line.outcome, line.status, line.method], ['method-not-allowed', 405, method]);
              assert.equal(line.action, path === '/healthz' ? 'probe' : path.slice('/admin/'.length));
            }
          }
        }
        // a scan of 50 refused methods from one address is not a failed login: the token still works
        assert.equal((await exchange(`${url}/admin/status`, { headers: auth })).status, 200);
        assert.equal((await exchange(`${url}/admin/status`, { method: 'DELETE' })).status, 405, 'http.request with another method');
      });
    });

    it('Plan 35: keeps the pinned snapshot after the body parser, though a new version landed mid-request (F9)', async () => {
      await withApp(true, async (fx, url) => {
        const outside = fx.ks.status().readsOutsideSnapshot;
        const seen = fx.firstReadSeen();
        const reply = await slowPost(`${url}/work`, '{"n":2}', async () => {
          await seen;
          await fx.rotate('B');
        });
        assert.deepEqual(JSON.parse(reply.body), { first: 'A', second: 'A', body: { n: 2 } });
        assert.equal(fx.ks.status().readsOutsideSnapshot, outside, 'no read fell outside the pinned context');
        const next = await slowPost(`${url}/work`, '{"n":3}', async () => {});
        assert.deepEqual(JSON.parse(next.body), { first: 'B', second: 'B', body: { n: 3 } });
      });
    });

    it('without the snapshot middleware, the same request sees the change (the test above can fail)', async () => {
      await withApp(false, async (fx, url) => {
        const seen = fx.firstReadSeen();
        const reply = await slowPost(`${url}/work`, '{"n":4}', async () => {
          await seen;
          await fx.rotate('B');
        });
        assert.deepEqual(JSON.parse(reply.body), { first: 'A', second: 'B', body: { n: 4 } });
      });
    });
  });
}
