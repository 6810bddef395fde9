/**
 * A PGP_WEBAPI_v1 stand-in for the runbook's Secret Manager section: a manager holding the
 * catalog's JWT_SECRET_KEY (a keyset, hot-reloaded) from the emulator through the official
 * client, with the keyring over it and the admin API, so that `keyshift rotate
 * JWT_SECRET_KEY --rotator keyring --instances URL` has an instance to wait for.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeListener } from '../src/adapters/node-http.ts';
import { createAdminHandler } from '../src/admin/index.ts';
import { createKeyshift, defineSecrets } from '../src/index.ts';
import { createHmacKeyring, type HmacKeyring } from '../src/rotation/keyring/hmac-keyring.ts';
import { gcpSecretManager } from '../src/sources/gcp-secret-manager.ts';
import type { EmulatorClientOptions } from '../src/emulator/index.ts';
import { JWT_SECRET_KEY } from '../examples/pgp/catalog/secrets.ts';

export interface RunbookInstance {
  /** The admin base URL. */
  readonly url: string;
  /** The keyring; made once the runbook has migrated the key (before, the store holds a plain string). */
  ring(): HmacKeyring;
  close(): Promise<void>;
}

export async function startRunbookInstance(options: { project: string; clientOptions: EmulatorClientOptions; token: string }): Promise<RunbookInstance> {
  const source = gcpSecretManager({ project: options.project, clientOptions: options.clientOptions });
  // A short TTL stands for the Pub/Sub push the real services get.
  const ks = createKeyshift(defineSecrets({ JWT_SECRET_KEY: { ...JWT_SECRET_KEY, ttlMs: 1_000 } }), { source, name: 'PGP_WEBAPI_v1', logger: false });
  await ks.ready();
  const handler = await createAdminHandler({ managers: ks, token: options.token, auditLog: () => undefined, alerts: { logger: false } });
  const server = createServer(toNodeListener(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let ring: HmacKeyring | undefined;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    ring() {
      ring ??= createHmacKeyring({ keyshift: ks, entry: 'JWT_SECRET_KEY', overlapMs: 24 * 3_600_000, logger: false });
      return ring;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
      await ks.close();
    },
  };
}
