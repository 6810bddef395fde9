/**
 * The store commands test/cli/every-store.test.ts leaves out, on each store it lacks a
 * test for: keyring-migrate, verify-rotation, doctor, init and rollout, on the local
 * store, gcp://PROJECT (the keyshift emulator) and aws://REGION (the loopback endpoint).
 * What each command wrote is read back with the official client, and no value is ever
 * printed.
 */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { GetSecretValueCommand, ListSecretVersionIdsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { toNodeListener } from '../../src/adapters/node-http.ts';
import { createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import type { Keyset } from '../../src/rotation/keyring/hmac-keyring.ts';
import { MIGRATED_KID } from '../../src/rotation/keyring/keyset-from-plain.ts';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { localStore } from '../../src/sources/local-store.ts';
import type { Source } from '../../src/types.ts';
import { AWS_CREDENTIALS, type EveryStore, PROJECT, REGION, type StoreKindUnderTest, startEveryStore, type Target } from './_every-store.ts';
import type { CliRun } from './_run.ts';

const KINDS = ['local', 'gcp', 'aws'] as const;
const PLAIN = 'fake-legacy-signing-key-0123456789-abcdefgh'; // 43 bytes: long enough for a keyring key
const TOKEN = 'fake-admin-token-0123456789';
const AWS_KEYS = { accessKeyId: AWS_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: AWS_CREDENTIALS.AWS_SECRET_ACCESS_KEY };

/** What a store holds, read with the official client (or the local store's own reader). */
interface Readback {
  latest(name: string): Promise<string>;
  /** The latest version as a service instance reports it: its number, or on AWS the AWSCURRENT VersionId. */
  servedId(name: string): Promise<string>;
  count(name: string): Promise<number>;
  close(): Promise<void>;
}

function readback(s: EveryStore, kind: StoreKindUnderTest): Readback {
  if (kind === 'gcp') {
    const client = new SecretManagerServiceClient(s.emulator.clientOptions());
    const secret = `projects/${PROJECT}/secrets`;
    return {
      async latest(name) {
        const [version] = await client.accessSecretVersion({ name: `${secret}/${name}/versions/latest` });
        return Buffer.from(version.payload?.data as Uint8Array).toString('utf8');
      },
      async servedId(name) {
        const [version] = await client.accessSecretVersion({ name: `${secret}/${name}/versions/latest` });
        return String(version.name?.split('/').pop());
      },
      async count(name) {
        const [versions] = await client.listSecretVersions({ parent: `${secret}/${name}` });
        return versions.length;
      },
      close: () => client.close(),
    };
  }
  if (kind === 'aws') {
    const client = new SecretsManagerClient({ region: REGION, endpoint: s.aws.endpoint, credentials: AWS_KEYS });
    return {
      async latest(name) {
        return String((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString);
      },
      async servedId(name) {
        return String((await client.send(new GetSecretValueCommand({ SecretId: name }))).VersionId);
      },
      async count(name) {
        return ((await client.send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }))).Versions ?? []).length;
      },
      close: async () => client.destroy(),
    };
  }
  const dir = s.target('local').store;
  return {
    async latest(name) {
      const store = await openLocalStore({ dir, masterKey: s.masterKey });
      try {
        return Buffer.from((await store.access(name)).value).toString('utf8');
      } finally {
        await store.close();
      }
    },
    async servedId(name) {
      return String(await this.count(name));
    },
    async count(name) {
      const store = await openLocalStore({ dir, masterKey: s.masterKey });
      try {
        return (await store.versions(name)).length;
      } finally {
        await store.close();
      }
    },
    close: async () => undefined,
  };
}

function assertNoValue(runs: readonly CliRun[], ...values: string[]): void {
  for (const r of runs) for (const v of values) assert.ok(!`${r.stdout}${r.stderr}`.includes(v), `a value was printed: ${r.stdout}${r.stderr}`);
}

/** The source a service instance reads the target store with. */
function sourceFor(s: EveryStore, kind: StoreKindUnderTest): Source {
  if (kind === 'gcp') return gcpSecretManager({ project: PROJECT, clientOptions: s.emulator.clientOptions() });
  if (kind === 'aws') {
    return awsSecretsManager({ clientConfig: { region: REGION, endpoint: s.aws.endpoint, credentials: AWS_KEYS } });
  }
  return localStore({ dir: s.target('local').store, masterKey: s.masterKey });
}

/** One service instance: a manager over the store (its TTL refresh only, no push) and the real admin surface on a loopback port. */
async function instance(ctx: TestContext, s: EveryStore, kind: StoreKindUnderTest, entry: string): Promise<string> {
  const ks = createKeyshift(defineSecrets({ [entry]: { type: t.string(), category: 'api-key', ttlMs: 100 } }), { source: sourceFor(s, kind), logger: false });
  await ks.ready();
  const handler = await createAdminHandler({ managers: ks, token: TOKEN, auditLog: () => undefined, alerts: { logger: false }, metrics: false });
  const server: Server = createServer(toNodeListener(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await handler.close();
    await ks.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

describe('CLI on every store: keyring-migrate, verify-rotation, doctor, init, rollout', () => {
  let s: EveryStore;
  const target = (kind: StoreKindUnderTest): Target => s.target(kind);
  const json = <T>(r: CliRun): T => JSON.parse(r.stdout) as T;

  before(async () => {
    s = await startEveryStore('ks-cli-commands-');
  });
  after(() => s.close());

  for (const kind of KINDS) {
    it(`keyring-migrate on ${kind}: the plain value becomes the primary key; again is a no-op; a short value is refused, nothing written`, async () => {
      const tg = target(kind);
      const back = readback(s, kind);
      try {
        assert.equal((await s.run(tg, ['put', 'JWT_SECRET_KEY'], PLAIN)).code, 0);
        const migrated = await s.run(tg, ['keyring-migrate', 'JWT_SECRET_KEY', '--json']);
        assert.equal(migrated.code, 0, migrated.stderr);
        assert.deepEqual(json(migrated), { name: 'JWT_SECRET_KEY', migrated: true, version: 2, from: 1, primary: MIGRATED_KID });
        const keyset = JSON.parse(await back.latest('JWT_SECRET_KEY')) as Keyset;
        assert.deepEqual(keyset.keys.map((k) => [k.kid, k.state]), [[MIGRATED_KID, 'primary']]);
        assert.equal(Buffer.from(keyset.keys[0]!.material!, 'base64').toString(), PLAIN, 'the key material is the plain value');
        assert.equal(await back.count('JWT_SECRET_KEY'), 2);

        const again = await s.run(tg, ['keyring-migrate', 'JWT_SECRET_KEY']);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stdout, /JWT_SECRET_KEY: version 2 is already a keyset; nothing to do/);
        assert.equal(await back.count('JWT_SECRET_KEY'), 2, 'a second run writes nothing');

        assert.equal((await s.run(tg, ['put', 'SHORT_SIGNING_KEY'], 'fake-short')).code, 0);
        const short = await s.run(tg, ['keyring-migrate', 'SHORT_SIGNING_KEY']);
        assert.equal(short.code, 1);
        assert.match(short.stderr, /KS_ERR_ROTATION_REFUSED: the plain value is 10 bytes/);
        assert.equal(await back.count('SHORT_SIGNING_KEY'), 1, 'nothing written');
        assert.equal(await back.latest('SHORT_SIGNING_KEY'), 'fake-short');

        const missing = await s.run(tg, ['keyring-migrate', 'NO_SUCH_KEY']);
        assert.equal(missing.code, 3, missing.stderr);
        assertNoValue([migrated, again, short, missing], PLAIN, 'fake-short', Buffer.from(PLAIN).toString('base64'));
      } finally {
        await back.close();
      }
    });
  }

  for (const kind of KINDS) {
    it(`verify-rotation on ${kind}: puts a version and reports both instances serving it (exit 0); the value lands in the store`, async (ctx) => {
      const tg = target(kind);
      const entry = 'CHANGENOW_API_KEY';
      const back = readback(s, kind);
      try {
        assert.equal((await s.run(tg, ['put', entry], 'fake-changenow-one')).code, 0);
        const before = await back.count(entry);
        const urls = [await instance(ctx, s, kind, entry), await instance(ctx, s, kind, entry)];
        const run = await s.run(
          { ...tg, env: { ...tg.env, KEYSHIFT_ADMIN_TOKEN: TOKEN } },
          ['verify-rotation', '--entry', entry, '--instances', urls.join(','), '--stdin', '--deadline-ms', '30000', '--poll-ms', '20', '--json'],
          'fake-changenow-two',
        );
        assert.equal(run.code, 0, `${run.stdout}${run.stderr}`);
        const report = json<{ ok: boolean; version: string; instances: Array<{ converged: boolean }>; failedRequests: number }>(run);
        assert.equal(report.ok, true);
        assert.equal(report.version, await back.servedId(entry), 'the version watched is the one the instances report');
        assert.deepEqual(report.instances.map((r) => r.converged), [true, true]);
        assert.equal(report.failedRequests, 0);
        assert.equal(await back.count(entry), before + 1, 'exactly one version put');
        assert.equal(await back.latest(entry), 'fake-changenow-two', 'the value read from stdin is the latest');
        assertNoValue([run], 'fake-changenow', TOKEN);
      } finally {
        await back.close();
      }
    });
  }

  it('verify-rotation on aws: an instance that never refreshes is reported as not converged (exit 1)', async (ctx) => {
    const tg = target('aws');
    const entry = 'STUCK_API_KEY';
    assert.equal((await s.run(tg, ['put', entry], 'fake-stuck-one')).code, 0);
    const ks = createKeyshift(defineSecrets({ [entry]: { type: t.string(), category: 'api-key', ttlMs: 3_600_000 } }), { source: sourceFor(s, 'aws'), logger: false });
    await ks.ready();
    const handler = await createAdminHandler({ managers: ks, token: TOKEN, auditLog: () => undefined, alerts: { logger: false }, metrics: false });
    const server = createServer(toNodeListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ctx.after(async () => {
      await new Promise((resolve) => server.close(resolve));
      await handler.close();
      await ks.close();
    });
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const run = await s.run(tg, ['verify-rotation', '--entry', entry, '--instances', url, '--token', TOKEN, '--deadline-ms', '300', '--poll-ms', '20']);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /0\/1 converged within 300 ms/);
    assert.match(run.stdout, /FAILED/);
    assertNoValue([run], 'fake-stuck', TOKEN);
  });

  it('doctor on gcp:// and aws://: the store is reachable, its secrets counted, the admin token found (exit 0); unreachable fails (exit 1)', async () => {
    for (const kind of ['gcp', 'aws'] as const) {
      const tg = target(kind);
      assert.equal((await s.run(tg, ['put', 'ADMIN_API_TOKEN'], 'fake-admin-token-in-store-0123456789')).code, 0);
      const names = (json<Array<{ name: string }>>(await s.run(tg, ['list', '--json']))).length;
      const run = await s.run(tg, ['doctor', '--json']);
      const checks = json<Array<{ check: string; verdict: string; detail: string }>>(run);
      const label = kind === 'gcp' ? 'Secret Manager store' : 'AWS Secrets Manager store';
      const store = checks.find((c) => c.check === label);
      assert.equal(store?.verdict, 'ok', JSON.stringify(checks));
      assert.match(store.detail, new RegExp(`^${tg.store}.*: reachable, ${names} secrets$`));
      assert.equal(checks.find((c) => c.check === 'admin token')?.verdict, 'ok');
      assert.equal(checks.find((c) => c.check === 'local store'), undefined, 'no local store is looked for');
      assert.equal(run.code, checks.some((c) => c.verdict === 'fail') ? 1 : 0);
      assert.ok(!existsSync(join(s.dir, `${kind}:`)), 'no directory named after the URL');
      assertNoValue([run], 'fake-admin-token-in-store');

      const table = await s.run(tg, ['doctor']);
      assert.match(table.stdout, new RegExp(`${label}\\s+ok\\s+${tg.store}`));
    }
    const unreachable = await s.run({ ...target('aws'), env: { ...target('aws').env, AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:1' } }, ['doctor', '--json']);
    assert.equal(unreachable.code, 1);
    const failed = json<Array<{ check: string; verdict: string; detail: string }>>(unreachable).find((c) => c.check === 'AWS Secrets Manager store');
    assert.equal(failed?.verdict, 'fail');
    assert.match(failed.detail, /^KS_ERR_SOURCE_UNAVAILABLE: /);
    const otherProject = await s.run({ ...target('gcp'), store: 'gcp://someone-else' }, ['doctor']);
    assert.equal(otherProject.code, 1);
    assert.match(otherProject.stdout, /Secret Manager store\s+fail\s+KS_ERR_SOURCE_DENIED/);
  });

  it('init on gcp:// and aws:// is refused (exit 2, nothing created); on the local store it creates the store', async () => {
    for (const kind of ['gcp', 'aws'] as const) {
      const run = await s.run(target(kind), ['init']);
      assert.equal(run.code, 2);
      assert.match(run.stderr, /keyshift init creates a local store directory; a gcp:\/\/ or aws:\/\/ store needs no init/);
      assert.ok(!existsSync(join(s.dir, `${kind}:`)), 'no directory named after the URL');
    }
    const local = { ...target('local'), store: join(s.dir, 'fresh-local') };
    const created = await s.run(local, ['init', '--json']);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(json(created), { store: local.store, secrets: 0, gitignore: null });
    assert.ok(existsSync(local.store));
  });

  it('rollout on aws:// is refused (exit 2: no annotations to hold the marker), nothing written', async () => {
    const tg = target('aws');
    assert.equal((await s.run(tg, ['put', 'CN_API_KEY'], 'fake-cn-one')).code, 0);
    const back = readback(s, 'aws');
    try {
      for (const args of [[], ['--halt', '--reason', 'bad canary'], ['--promote']]) {
        const run = await s.run(tg, ['rollout', 'CN_API_KEY', ...args]);
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /rollout markers live in the local store and Secret Manager \(annotations\); not on aws:\/\//);
        assertNoValue([run], 'fake-cn');
      }
      assert.equal(await back.count('CN_API_KEY'), 1);
      const tags = s.aws.direct('DescribeSecret', { SecretId: 'CN_API_KEY' }).Tags as Array<{ Key: string }> | undefined;
      assert.ok(!(tags ?? []).some((x) => /rollout/.test(x.Key)), 'no marker written as a tag');
    } finally {
      await back.close();
    }
  });
});
