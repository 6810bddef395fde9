// One instance of a service holding an HMAC keyring over a shared local store, with
// its admin surface on loopback (what the keyring rotator polls before promoting).
// Instance B reads its store 300 ms late and does not watch it, so it learns every
// keyset version after A. Driven over IPC by scheduled-keyring.test.ts; never sends
// key material, only tokens (which carry none). The keyring's wall clock (token expiry,
// key retirement) stands still at the time given on the command line, so a token delayed
// in transit on a loaded machine never expires and a late instance is never past the
// overlap by its clock: what retires the old key here is the cleanup dropping it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { toNodeListener } from '../../src/adapters/node-http.ts';
import { systemClock } from '../../src/core/clock.ts';
import { createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createHmacKeyring } from '../../src/rotation/keyring/hmac-keyring.ts';
import { localStore } from '../../src/sources/local-store.ts';
import type { Source } from '../../src/types.ts';

export const ENTRY = 'SUCCESS_URL_SIGNING_KEY';
export const TOKEN_TTL_MS = 1_000;
export const CLOCK_SKEW_MS = 200;
export const OVERLAP_MS = 1_500;
export const ADMIN_TOKEN = 'fake-admin-token-for-keyring-test';

/** `sync` is answered by `synced` once every message the child sent before it is on the channel. */
export type ToChild = { type: 'mint'; on: boolean } | { type: 'verify'; tokens: string[] } | { type: 'sync' } | { type: 'stop' };
export type FromChild =
  | { type: 'ready'; url: string }
  | { type: 'tokens'; tokens: string[] }
  | { type: 'verified'; ok: number; failed: Array<{ reason: string; kid?: string }> }
  | { type: 'synced' };

if (process.send !== undefined) {
  const [role, dir, wallNow] = process.argv.slice(2) as ['A' | 'B', string, string];
  const clock = { ...systemClock, wallNow: () => Number(wallNow) };
  const send = (message: FromChild): void => void process.send?.(message);
  const inner = localStore({ dir });
  const late: Source = {
    kind: inner.kind,
    get: async (name, options) => {
      const got = await inner.get(name, options);
      await sleep(300);
      return got;
    },
    close: () => inner.close?.(),
  };
  const declaration = defineSecrets({
    [ENTRY]: { type: t.string(), category: 'signing-key', rotation: 'keyring', ...(role === 'B' ? { ttlMs: 100 } : {}) },
  } as const);
  const ks = createKeyshift(declaration, { source: role === 'A' ? inner : late, logger: false, name: `instance-${role}`, minRefreshIntervalMs: 50 });
  await ks.ready();
  const ring = createHmacKeyring({ keyshift: ks, entry: ENTRY, overlapMs: OVERLAP_MS, tokenTtlMs: TOKEN_TTL_MS, clockSkewMs: CLOCK_SKEW_MS, logger: false, clock });
  const admin = await createAdminHandler({ managers: ks, token: ADMIN_TOKEN, metrics: false, auditLog: () => {}, alerts: { logger: false } });
  const server = createServer(toNodeListener(admin));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let minting = false;
  const ticker = setInterval(() => {
    if (minting) send({ type: 'tokens', tokens: Array.from({ length: 10 }, (_, i) => ring.sign(`order=${role}-${Date.now()}-${i}`)) });
  }, 20);
  process.on('message', async (message: ToChild) => {
    if (message.type === 'mint') minting = message.on;
    else if (message.type === 'verify') {
      const results = await Promise.all(message.tokens.map((token) => ring.verify(token)));
      const failed = results.flatMap((r) => (r.ok ? [] : [{ reason: r.reason, ...(r.kid ? { kid: r.kid } : {}) }]));
      send({ type: 'verified', ok: results.length - failed.length, failed });
    } else if (message.type === 'sync') {
      send({ type: 'synced' });
    } else {
      clearInterval(ticker);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await admin.close();
      await ks.close();
      process.disconnect?.();
    }
  });
  send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}
