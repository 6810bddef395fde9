/**
 * Plan test 37's setup: keyshift with every kind of source and companion at once (GCP
 * and AWS sources over loopback, a watched file directory, the local store, a Pub/Sub
 * pull subscription, an admin HTTP server and, when PostgreSQL is there, a rotating pg
 * pool), so that close() can be checked for what it leaves behind. The stores
 * themselves (`startInfra`) are the test's, not keyshift's: they are started before the
 * baseline and closed after the check. Values are fake.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { toNodeListener } from '../../src/adapters/node-http.ts';
import { createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createRotatingPool } from '../../src/rotation/pg/pg-pool.ts';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import { fileSource } from '../../src/sources/file.ts';
import { gcpPubSubPull } from '../../src/sources/gcp-pubsub-pull.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { startAwsSecretsManagerServer } from '../../src/testing/aws-secrets-manager-server.ts';
import type { PgCluster } from '../_pg-cluster.ts';
import { gcpStore, localStoreFixture } from './_stores.ts';

const TOKEN = 'hardening-admin-token-0123456789';
const PG_USER = 'app_hygiene';
const PG_PASSWORD = 'fake-hygiene-password-0';

export async function startInfra(pg?: PgCluster) {
  const gcp = await gcpStore();
  await gcp.set('API_KEY', 'fake-gcp-1');
  const aws = await startAwsSecretsManagerServer();
  aws.direct('CreateSecret', { Name: 'API_KEY', SecretString: 'fake-aws-1' });
  const local = await localStoreFixture();
  await local.store.put('DATABASE_PASSWORD', PG_PASSWORD);
  const fileDir = await mkdtemp(join(tmpdir(), 'ks-hardening-files-'));
  await writeFile(join(fileDir, 'FILE_KEY'), 'fake-file-1');
  if (pg) await pg.createRole(PG_USER, PG_PASSWORD);
  return {
    gcp,
    aws,
    local,
    fileDir,
    pg,
    async close() {
      await gcp.close();
      await aws.close();
      await local.close();
      await rm(fileDir, { recursive: true, force: true });
    },
  };
}

type Infra = Awaited<ReturnType<typeof startInfra>>;

/** GET over a fresh connection (no keep-alive agent: a pooled client socket would be the test's own leak). */
function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Starts everything on `infra`, with short TTLs and rescans so that timers are armed and firing. */
export async function startEverything(infra: Infra) {
  const dynamic = (ttlMs: number) => defineSecrets({ API_KEY: { type: t.string(), category: 'api-key', ttlMs } });
  const gcpSource = gcpSecretManager({ project: 'hardening', clientOptions: infra.gcp.emulator.clientOptions() });
  const credentials = { accessKeyId: 'AKIDHARDENINGFAKE', secretAccessKey: 'hardening-fake-secret-key' };
  const files = createKeyshift(defineSecrets({ FILE_KEY: { type: t.string(), category: 'api-key', ttlMs: 100 } }), {
    source: fileSource({ dir: infra.fileDir, rescanMs: 50 }),
    name: 'file',
    logger: false,
  });
  const managers = [
    createKeyshift(dynamic(100), { source: gcpSource, name: 'gcp', logger: false }),
    createKeyshift(dynamic(100), {
      source: awsSecretsManager({ clientConfig: { endpoint: infra.aws.endpoint, region: infra.aws.region, credentials } }),
      name: 'aws',
      logger: false,
    }),
  ];
  const db = createKeyshift(
    defineSecrets({ DATABASE_PASSWORD: { type: t.string(), category: 'database-credential', rotation: 'pg-pool' } }),
    { source: infra.local.source(), name: 'local', logger: false },
  );
  const all = [...managers, files, db];
  await Promise.all(all.map((ks) => ks.ready()));
  // There is no Pub/Sub server here: the pull subscription talks to the emulator's gRPC port, which answers
  // UNIMPLEMENTED. (Against a port that refuses connections, @google-cloud/pubsub leaves a 300 s waitForReady
  // timer behind after close(): see the report of plan 37.)
  const { apiEndpoint, port } = infra.gcp.emulator.clientOptions() as { apiEndpoint: string; port: number };
  const pullErrors: string[] = [];
  const pull = await gcpPubSubPull({
    subscription: 'projects/hardening/subscriptions/keyshift',
    clientConfig: { apiEndpoint: `${apiEndpoint}:${port}`, projectId: 'hardening' },
    source: gcpSource,
    onError: (error) => void pullErrors.push(error.code),
  });
  const admin = await createAdminHandler({ managers: all, token: TOKEN, auditLog: () => {} });
  const server = createServer(toNodeListener(admin));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const adminPort = (server.address() as AddressInfo).port;
  const pool = infra.pg
    ? await createRotatingPool({
        keyshift: db,
        password: 'DATABASE_PASSWORD',
        user: PG_USER,
        poolConfig: { host: infra.pg.host, port: infra.pg.port, database: 'postgres', max: 4, connectionTimeoutMillis: 5_000 },
        logger: false,
      })
    : undefined;
  let served = 0;
  let queries = 0;
  let adminCalls = 0;
  return {
    /** Reads, admin calls and queries for `ms` of real time (the plan's 10 s, scaled). */
    async exercise(ms: number): Promise<void> {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        const reads = [...managers.map((ks) => ks.get('API_KEY')), files.get('FILE_KEY')];
        served += reads.filter((value) => value !== undefined).length;
        if ((await get(adminPort, '/admin/status')) === 200) adminCalls++;
        if (pool) queries += (await pool.query('select 1 as one')).rowCount ?? 0;
        await sleep(20);
      }
      // Let the pull's first stream settle (here: the emulator's UNIMPLEMENTED answer) before anything closes:
      // a subscriber closed while its first waitForReady() is still pending leaves @grpc/grpc-js's 300 s
      // deadline timer behind (the upstream defect described at the skipped check in hygiene.test.ts).
      const settleBy = performance.now() + 20_000;
      while (pullErrors.length === 0 && performance.now() < settleBy) await sleep(20);
    },
    get figures() {
      return { served, queries, adminCalls, pullErrors: pullErrors.length };
    },
    async close(): Promise<void> {
      await pool?.end();
      await pull.close();
      await new Promise((resolve) => server.close(resolve));
      await admin.close();
      for (const ks of all) await ks.close();
    },
  };
}
