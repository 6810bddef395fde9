// One service instance for catalog-keyrings.test.ts: declares the catalog's four signing
// keys (examples/pgp/catalog/secrets.ts, unchanged), loads them from a shared local store,
// builds a keyring over each, and signs one token per key ("sign") or verifies the tokens
// given as JSON and signs fresh ones ("verify"), then exits. Prints JSON only, never material.
import { createKeyshift, defineSecrets } from '../../src/index.ts';
import { createHmacKeyring, type VerifyResult } from '../../src/rotation/keyring/hmac-keyring.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { JWT_SECRET_KEY, SIGNUP_SECRET_KEY, SUCCESS_URL_SIGNING_KEY, TPS_HOSTPAY_SIGNING_KEY } from '../../examples/pgp/catalog/secrets.ts';

const [dir, mode, given] = process.argv.slice(2) as [string, 'sign' | 'verify', string | undefined];
const declaration = defineSecrets({ SUCCESS_URL_SIGNING_KEY, TPS_HOSTPAY_SIGNING_KEY, JWT_SECRET_KEY, SIGNUP_SECRET_KEY });
const ks = createKeyshift(declaration, { source: localStore({ dir }), logger: false });
await ks.ready();
const names = ['SUCCESS_URL_SIGNING_KEY', 'TPS_HOSTPAY_SIGNING_KEY', 'JWT_SECRET_KEY', 'SIGNUP_SECRET_KEY'] as const;
const rings = Object.fromEntries(names.map((entry) => [entry, createHmacKeyring({ keyshift: ks, entry, overlapMs: 24 * 3_600_000, logger: false })]));
const signed = Object.fromEntries(names.map((n) => [n, { token: rings[n]!.sign(`${n}: fake payload ${process.pid}`), primary: rings[n]!.status().primary }]));
const verified: Record<string, VerifyResult> = {};
if (mode === 'verify') {
  const tokens = JSON.parse(given ?? '{}') as Record<string, string>;
  for (const [n, token] of Object.entries(tokens)) verified[n] = await rings[n]!.verify(token);
}
process.stdout.write(`${JSON.stringify({ pid: process.pid, signed, verified })}\n`);
await ks.close();
