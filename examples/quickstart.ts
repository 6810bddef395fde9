import { createKeyshift, defineSecrets, t } from 'keyshift';
import { localStore } from 'keyshift/sources/local-store';

export const secrets = defineSecrets({
  PAYMENTS_API_KEY: { type: t.string(), category: 'api-key' }, // dynamic: hot-reloaded, a Secret<string>
  PAYMENTS_URL: { type: t.url(), category: 'service-url' }, // dynamic, 1 min TTL by default
  FLAT_FEE: { type: t.decimal({ min: 0, max: 100 }), category: 'app-config' }, // an exact decimal (big.js)
  SESSION_SIGNING_KEY: { type: t.string({ minLength: 32 }), category: 'signing-key', static: true },
});

export const ks = createKeyshift(secrets, { source: localStore({ dir: '.keyshift/store' }) });
await ks.ready(); // every entry loaded, in parallel; anything missing fails with one report
console.log(`${ks.get('PAYMENTS_API_KEY')}`, ks.get('FLAT_FEE').times(2).toString()); // "[redacted]" and an exact decimal

// Read at each use (sync, no I/O): the next call after a rotation uses the new version.
export function charge(body: string): Promise<Response> {
  const url = new URL('/v1/charges', ks.get('PAYMENTS_URL'));
  const headers = { authorization: `Bearer ${ks.get('PAYMENTS_API_KEY').reveal()}` }; // reveal() only where it is used
  return fetch(url, { method: 'POST', headers, body });
}

ks.on('change', (e) => console.log(`${e.name} changed to version ${e.version}`));
process.once('SIGTERM', () => void ks.close()); // stop refreshing and watching on shutdown
