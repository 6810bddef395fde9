/** Starts an emulator over a fresh local store in a temp dir, and the real client against it. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { type Emulator, type StartEmulatorOptions, startEmulator } from '../../src/emulator/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';

export const PROJECT = 'test-project';

export interface Fixture {
  emulator: Emulator;
  client: SecretManagerServiceClient;
  /** `projects/test-project/secrets/{id}` */
  secret(id: string): string;
  close(): Promise<void>;
}

export async function startFixture(options: Omit<StartEmulatorOptions, 'store'> = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'ks-emulator-'));
  const store = await openLocalStore({ dir, masterKey: randomBytes(32) });
  const emulator = await startEmulator({ ...options, store });
  const client = new SecretManagerServiceClient(emulator.clientOptions());
  return {
    emulator,
    client,
    secret: (id) => `projects/${PROJECT}/secrets/${id}`,
    async close() {
      await client.close();
      await emulator.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Creates a secret and adds the given versions (fake values only). */
export async function seed(f: Fixture, id: string, ...values: string[]): Promise<void> {
  await f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: id, secret: { replication: { automatic: {} } } });
  for (const value of values) {
    await f.client.addSecretVersion({ parent: f.secret(id), payload: { data: Buffer.from(value) } });
  }
}

/** The gRPC code a call rejected with. */
export async function codeOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: number }).code;
  }
  return undefined;
}
