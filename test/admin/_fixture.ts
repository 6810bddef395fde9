import type { AdminHandlerOptions, AuditRecord } from '../../src/admin/index.ts';
import { createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createFakeClock, memorySource } from '../../src/testing/index.ts';
import type { Logger } from '../../src/types.ts';

export const TOKEN = 'test-admin-token-0123456789abcdef';

export const declaration = defineSecrets({
  CHANGENOW_API_KEY: { type: t.string(), category: 'api-key' },
  PGP_SPLIT2_URL: { type: t.url(), category: 'service-url' },
  TP_FLAT_FEE: { type: t.decimal({ min: 0, max: 100 }), category: 'app-config', maxStaleMs: 120_000 },
  BATCH_SIZE: { type: t.int(), category: 'app-config' },
  SUCCESS_URL_SIGNING_KEY: { type: t.string(), category: 'signing-key', static: true },
});

export const initialValues = {
  CHANGENOW_API_KEY: 'fake-changenow-key-1',
  PGP_SPLIT2_URL: 'https://split2.example.test/estimate',
  TP_FLAT_FEE: '1.5',
  BATCH_SIZE: '20',
  SUCCESS_URL_SIGNING_KEY: 'fake-signing-key-for-tests-0123456789',
};

/** A logger that keeps every line as text (message + fields). */
export function captureLogger(lines: string[]): Logger {
  const keep = (level: string) => (obj: Record<string, unknown>, msg: string) => void lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
  return { info: keep('info'), warn: keep('warn'), error: keep('error') };
}

export interface FixtureOptions {
  values?: Record<string, string>;
  handler?: Partial<AdminHandlerOptions>;
  ready?: boolean;
}

/** A manager on a memory source and a fake clock, with an admin handler whose audit and logs are captured. */
export async function adminFixture(options: FixtureOptions = {}) {
  const clock = createFakeClock();
  const source = memorySource({ values: options.values ?? initialValues });
  const logs: string[] = [];
  // random() = 0.9: the first refresh spread over the TTL lands at 0.9 TTL (54 s for 1 min), the earliest
  // the first refresh could come before it was spread, so ticks below that never meet a background refresh
  const ks = createKeyshift(declaration, { source, clock, name: 'PGP_SPLIT2_v1', logger: captureLogger(logs), random: () => 0.9 });
  if (options.ready !== false) await ks.ready();
  const audit: AuditRecord[] = [];
  const handler = await createAdminHandler({
    managers: ks,
    token: TOKEN,
    auditLog: (record) => audit.push(record),
    clock,
    ...options.handler,
    alerts: { logger: captureLogger(logs), ...options.handler?.alerts },
  });
  const call = (path: string, init: RequestInit & { client?: string } = {}): Promise<Response> => {
    const { client = '10.0.0.1', ...rest } = init;
    return handler(new Request(`http://admin.test${path}`, rest), { clientAddress: client });
  };
  const authed = (path: string, init: RequestInit & { client?: string } = {}): Promise<Response> =>
    call(path, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string>) } });
  const close = async (): Promise<void> => {
    await handler.close();
    await ks.close();
  };
  return { clock, source, ks, handler, audit, logs, call, authed, close };
}

export const json = { 'content-type': 'application/json' };
