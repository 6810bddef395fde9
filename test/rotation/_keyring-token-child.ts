// One service instance for keyring-migrate.test.ts: loads JWT_SECRET_KEY (a keyset) from
// a shared local store and either signs a token (printed) or verifies the one given, then
// exits. Prints JSON only; never material.
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createHmacKeyring } from '../../src/rotation/keyring/hmac-keyring.ts';
import { localStore } from '../../src/sources/local-store.ts';

const [dir, mode, token] = process.argv.slice(2) as [string, 'sign' | 'verify', string | undefined];
const ks = createKeyshift(defineSecrets({ JWT_SECRET_KEY: { type: t.string(), category: 'signing-key', rotation: 'keyring' } } as const), {
  source: localStore({ dir }),
  logger: false,
});
await ks.ready();
const ring = createHmacKeyring({ keyshift: ks, entry: 'JWT_SECRET_KEY', overlapMs: 24 * 3_600_000, logger: false });
const out = mode === 'sign' ? { token: ring.sign('user=fake-42'), primary: ring.status().primary } : await ring.verify(token ?? '');
process.stdout.write(`${JSON.stringify(out)}\n`);
await ks.close();
