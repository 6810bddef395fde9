/**
 * The three stores a CLI test runs on, started once: a local store directory, Secret
 * Manager (the keyshift emulator, the official client over loopback) and AWS Secrets
 * Manager (the loopback endpoint, the official SDK). The same setup as
 * test/cli/every-store.test.ts, for the other files that test a command on every store.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { type AwsSecretsManagerServer, startAwsSecretsManagerServer } from '../../src/testing/aws-secrets-manager-server.ts';
import { type CliRun, runInProcess } from './_run.ts';

export const PROJECT = 'pgp-cli-test';
export const REGION = 'eu-west-1';
export const AWS_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'fake-key-id', AWS_SECRET_ACCESS_KEY: 'fake-secret-key' } as const;

export type StoreKindUnderTest = 'local' | 'gcp' | 'aws';

export interface Target {
  kind: StoreKindUnderTest;
  /** The --store argument. */
  store: string;
  /** The environment the CLI runs with (the master key, or the endpoint and credentials). */
  env: NodeJS.ProcessEnv;
}

export interface EveryStore {
  dir: string;
  emulator: Emulator;
  aws: AwsSecretsManagerServer;
  /** The local store's master key (base64), to read it back. */
  masterKey: string;
  target(kind: StoreKindUnderTest): Target;
  /** `keyshift ...args --store <target>` in-process. */
  run(t: Target, args: string[], stdin?: string): Promise<CliRun>;
  close(): Promise<void>;
}

export async function startEveryStore(prefix: string): Promise<EveryStore> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const emulatorStore: LocalStore = await openLocalStore({ dir: join(dir, 'emulated'), masterKey: randomBytes(32) });
  const emulator = await startEmulator({ store: emulatorStore, project: PROJECT });
  const aws = await startAwsSecretsManagerServer({ region: REGION });
  const base = { PATH: process.env.PATH };
  const masterKey = randomBytes(32).toString('base64');
  const targets: Target[] = [
    { kind: 'local', store: join(dir, 'local'), env: { ...base, KEYSHIFT_MASTER_KEY: masterKey } },
    { kind: 'gcp', store: `gcp://${PROJECT}`, env: { ...base, SECRET_MANAGER_EMULATOR_HOST: emulator.endpoint } },
    { kind: 'aws', store: `aws://${REGION}`, env: { ...base, ...AWS_CREDENTIALS, AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint } },
  ];
  return {
    dir,
    emulator,
    aws,
    masterKey,
    target: (kind) => targets.find((x) => x.kind === kind)!,
    run: (t, args, stdin) => runInProcess([...args, '--store', t.store], { env: t.env, cwd: dir, ...(stdin === undefined ? {} : { stdin }) }),
    async close() {
      await emulator.close();
      await emulatorStore.close();
      await aws.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
