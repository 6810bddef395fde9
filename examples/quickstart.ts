// The README's ten-line example: one service's declaration, a manager, and reads.
import { createKeyshift, defineSecrets, t } from 'keyshift';
import { localStore } from 'keyshift/sources/local-store';

export const secrets = defineSecrets({
  CHANGENOW_API_KEY: { type: t.string(), category: 'api-key' }, // dynamic: hot-reloaded, Secret<string>
  PGP_SPLIT2_URL: { type: t.url(), category: 'service-url' }, // dynamic, 1 min TTL by default
  TP_FLAT_FEE: { type: t.decimal({ min: 0, max: 100 }), category: 'app-config' }, // exact decimal
  SUCCESS_URL_SIGNING_KEY: { type: t.string({ minLength: 32 }), category: 'signing-key', static: true },
});

export async function main(): Promise<void> {
  const ks = createKeyshift(secrets, { source: localStore({ dir: '.keyshift/store' }) });
  await ks.ready(); // every entry loaded, in parallel
  const key = ks.get('CHANGENOW_API_KEY'); // sync, no I/O: the current version
  console.log(`${key}`, ks.get('TP_FLAT_FEE').times(2).toString()); // "[redacted]" and an exact decimal
  fetch(ks.get('PGP_SPLIT2_URL'), { headers: { 'x-api-key': key.reveal() } }).catch(() => {});
  ks.on('change', (e) => console.log(`${e.name} now at version ${e.version}`));
  await ks.close();
}
