import { request } from 'node:http';
import { createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';

export const TOKEN = 'adapter-test-token-0123456789abcdef';

/** A manager with one dynamic flag, an admin handler on it, and a way to put a new version and wait until it is served. */
export async function adapterFixture() {
  const source = memorySource({ values: { FLAG: 'A', API_KEY: 'fake-adapter-key' } });
  const ks = createKeyshift(
    defineSecrets({ FLAG: { type: t.string(), category: 'app-config' }, API_KEY: { type: t.string(), category: 'api-key' } }),
    { source, name: 'adapter-svc', logger: false },
  );
  await ks.ready();
  const audit: string[] = [];
  const handler = await createAdminHandler({ managers: ks, token: TOKEN, auditLog: (r) => audit.push(JSON.stringify(r)), alerts: { logger: false } });
  const rotate = async (value: string): Promise<void> => {
    const changed = new Promise<void>((resolve) => {
      const off = ks.on('change', (e) => {
        if (e.name === 'FLAG') {
          off();
          resolve();
        }
      });
    });
    source.set('FLAG', value);
    await changed;
  };
  /** Resolves the next time a request made its first read; the test then rotates before sending the body. */
  let firstRead: () => void = () => {};
  const firstReadSeen = () => new Promise<void>((resolve) => (firstRead = resolve));
  const close = async () => {
    await handler.close();
    await ks.close();
  };
  return { ks, source, handler, audit, rotate, markFirstRead: () => firstRead(), firstReadSeen, close };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a request's headers, waits for `between()`, then its body: a change can land mid-request. */
export function exchange(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  between: () => Promise<void> = async () => {},
): Promise<Reply> {
  const body = init.body ?? '';
  return new Promise<Reply>((resolve, reject) => {
    const headers: Record<string, string> = { connection: 'close', ...init.headers };
    if (body !== '') headers['content-length'] = String(Buffer.byteLength(body));
    const req = request(url, { method: init.method ?? 'GET', headers });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.flushHeaders();
    between().then(() => req.end(body), reject);
  });
}

/** A JSON POST whose body is sent only after `between()` resolved. */
export function slowPost(url: string, body: string, between: () => Promise<void>): Promise<Reply> {
  return exchange(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }, between);
}

export const auth = { authorization: `Bearer ${TOKEN}` };
