// A throwaway PostgreSQL cluster for the rotation tests: `initdb` in a temporary
// directory, `pg_ctl start` on a free loopback port (and a socket in the same
// directory), stopped and deleted by `stop()`. As root, the server runs as the
// `postgres` OS user (initdb refuses root). Host connections use SCRAM passwords;
// the socket trusts the superuser, so the tests can ALTER ROLE freely.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';

export interface PgCluster {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The socket directory (pg: `host: socketDir`). */
  readonly socketDir: string;
  /** Runs one statement as the superuser over the socket. */
  admin<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Creates (or resets) a login role with this password. */
  createRole(role: string, password: string): Promise<void>;
  /** ALTER ROLE ... PASSWORD, as an operator's rotation step does. */
  setPassword(role: string, password: string): Promise<void>;
  stop(): Promise<void>;
}

/** The directory holding initdb/pg_ctl: $PG_BIN, Debian's /usr/lib/postgresql/<newest>/bin, or PATH. */
export function findPgBin(): string | undefined {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv && existsSync(join(fromEnv, 'initdb'))) return fromEnv;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], 'bin');
  }
  return (process.env.PATH ?? '').split(delimiter).find((dir) => dir && existsSync(join(dir, 'initdb')));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** As root: run as `postgres` (runuser, else su). Otherwise: as ourselves. */
function runner(): { wrap(cmd: string, args: string[]): [string, string[]]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { wrap: (cmd, args) => [cmd, args] };
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  const hasRunuser = spawnSync('runuser', ['--help'], { stdio: 'ignore' }).status === 0;
  const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  return {
    uid,
    gid,
    wrap: (cmd, args) =>
      hasRunuser ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : ['su', ['postgres', '-s', '/bin/sh', '-c', [cmd, ...args].map(quote).join(' ')]],
  };
}

/** Starts a fresh cluster, or resolves undefined when PostgreSQL is not installed (the caller skips). */
export async function startPgCluster(): Promise<PgCluster | undefined> {
  const bin = findPgBin();
  if (!bin) return undefined;
  const as = runner();
  const base = mkdtempSync(join(tmpdir(), 'keyshift-pg-'));
  if (as.uid !== undefined && as.gid !== undefined) chownSync(base, as.uid, as.gid);
  const data = join(base, 'data');
  const run = (cmd: string, args: string[]): void => {
    const [file, argv] = as.wrap(join(bin, cmd), args);
    const r = spawnSync(file, argv, { encoding: 'utf8', cwd: base });
    if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr || r.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    `-k ${base}`,
    '-c listen_addresses=127.0.0.1',
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
    '-c shared_buffers=32MB',
  ].join(' ');
  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    const [file, argv] = as.wrap(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    spawnSync(file, argv, { stdio: 'ignore', cwd: base });
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', stopSync); // a crashed test run never leaves a server behind
  try {
    run('pg_ctl', ['-D', data, '-l', join(base, 'server.log'), '-w', '-t', '30', '-o', settings, 'start']);
  } catch (error) {
    stopSync();
    throw error;
  }
  const adminPool = new pg.Pool({ host: base, port, user: 'postgres', database: 'postgres', max: 2 });
  adminPool.on('error', () => undefined);
  const cluster: PgCluster = {
    host: '127.0.0.1',
    port,
    socketDir: base,
    admin: (sql, values) => adminPool.query(sql, values),
    async createRole(role, password) {
      const ident = pg.escapeIdentifier(role);
      await adminPool.query(`DROP ROLE IF EXISTS ${ident}`);
      await adminPool.query(`CREATE ROLE ${ident} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
    },
    async setPassword(role, password) {
      await adminPool.query(`ALTER ROLE ${pg.escapeIdentifier(role)} PASSWORD ${pg.escapeLiteral(password)}`);
    },
    async stop() {
      await adminPool.end().catch(() => undefined);
      process.removeListener('exit', stopSync);
      stopSync();
    },
  };
  return cluster;
}

/** For a describe() body: one cluster for the suite, started before its tests and stopped after. */
export function useCluster(): () => PgCluster {
  let cluster: PgCluster | undefined;
  before(async () => {
    cluster = await startPgCluster();
    if (!cluster) throw new Error('PostgreSQL is not installed (set PG_BIN, or skip with findPgBin())');
  });
  after(() => cluster?.stop());
  return () => {
    if (!cluster) throw new Error('the cluster is not started');
    return cluster;
  };
}
