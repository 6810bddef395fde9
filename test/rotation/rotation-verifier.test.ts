import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { toNodeListener } from '../../src/adapters/node-http.ts';
import { createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { failedRequestsOf, servedVersions, verifyRotation } from '../../src/rotation/staged/rotation-verifier.ts';
import { localStore } from '../../src/sources/local-store.ts';
import type { Source } from '../../src/types.ts';
import { runInProcess } from '../cli/_run.ts';

const TOKEN = 'fake-admin-token-0123456789';
const ENTRY = 'CHANGENOW_API_KEY';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

/** One service instance: a manager over the shared local store and the real admin surface on a loopback port. */
async function instance(ctx: TestContext, dir: string, options: { watch: boolean; ttlMs?: number }): Promise<string> {
  const inner = localStore({ dir });
  const source: Source = options.watch ? inner : { kind: inner.kind, get: inner.get.bind(inner), close: () => inner.close?.() };
  const ks = createKeyshift(defineSecrets({ [ENTRY]: { type: t.string(), category: 'api-key', ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}) } }), {
    source,
    logger: false,
  });
  await ks.ready();
  const handler = await createAdminHandler({ managers: ks, token: TOKEN, auditLog: () => undefined, alerts: { logger: false }, metrics: false });
  const server = createServer(toNodeListener(handler));
  const url = await listen(server);
  ctx.after(async () => {
    await new Promise((resolve) => server.close(resolve));
    await handler.close();
    await ks.close();
  });
  return url;
}

async function storeWithEntry(ctx: TestContext): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'keyshift-verify-'));
  ctx.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openLocalStore({ dir });
  await store.put(ENTRY, 'fake-changenow-key-1');
  await store.close();
  return dir;
}

describe('keyshift verify-rotation', () => {
  it('puts a version, waits until every instance serves it, and reports propagation and failed requests (exit 0)', async (t) => {
    const dir = await storeWithEntry(t);
    const urls = await Promise.all([instance(t, dir, { watch: true }), instance(t, dir, { watch: true })]);
    const run = await runInProcess(['verify-rotation', '--store', dir, '--entry', ENTRY, '--instances', urls.join(','), '--deadline-ms', '5000', '--poll-ms', '10', '--json'], {
      env: { KEYSHIFT_ADMIN_TOKEN: TOKEN },
      cwd: dir,
    });
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout);
    assert.equal(report.ok, true);
    assert.equal(report.version, '2');
    assert.deepEqual(report.instances.map((r: { converged: boolean; version: string }) => [r.converged, r.version]), [
      [true, '2'],
      [true, '2'],
    ]);
    assert.equal(report.failedRequests, 0);
    const p = report.propagationMs;
    t.diagnostic(`verify-rotation, 2 instances on local-store push: propagation p50 ${Math.round(p.p50)} ms, p99 ${Math.round(p.p99)} ms, max ${Math.round(p.max)} ms; failed requests ${report.failedRequests}`);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(TOKEN));
  });

  it('Plan 36: exits 1 when an instance does not converge within the deadline, and prints a table', async (t) => {
    const dir = await storeWithEntry(t);
    const fast = await instance(t, dir, { watch: true });
    const stuck = await instance(t, dir, { watch: false, ttlMs: 60_000 });
    const run = await runInProcess(['verify-rotation', '--store', dir, '--entry', ENTRY, '--instances', `${fast},${stuck}/`, '--deadline-ms', '400', '--poll-ms', '20'], {
      env: { KEYSHIFT_ADMIN_TOKEN: TOKEN },
      cwd: dir,
    });
    assert.equal(run.code, 1);
    assert.match(run.stdout, /1\/2 converged within 400 ms/);
    assert.match(run.stdout, /FAILED/);
    assert.match(run.stdout, new RegExp(`${stuck}/admin/status\\s+NO\\s+-\\s+1\\b`));
  });

  it('counts the failed requests instances expose and fails on any, and reads unreachable instances as not converged', async () => {
    let failed = 3;
    let served = '1';
    const report = await verifyRotation({
      entry: ENTRY,
      instances: ['a', 'b', 'down'],
      deadlineMs: 300,
      pollIntervalMs: 5,
      put: async () => {
        served = '2';
        failed += 2; // two requests fail during the rotation
        return '2';
      },
      fetchStatus: async (instance) => {
        if (instance === 'down') throw new Error('HTTP 503');
        const entries = [{ name: 'X', key: ENTRY, version: served }];
        return instance === 'a' ? { managers: [{ entries, requests: { failed } }] } : { entries };
      },
    });
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.instances.map((r) => [r.instance, r.converged, r.failedRequests, r.lastError]),
      [
        ['a', true, 2, undefined],
        ['b', true, undefined, undefined],
        ['down', false, undefined, 'HTTP 503'],
      ],
    );
    assert.equal(report.failedRequests, 2);
    assert.ok(report.propagationMs && report.propagationMs.max >= report.propagationMs.p50);
  });

  it('reads versions from a manager status or the admin status, by store key or entry name', () => {
    assert.deepEqual(servedVersions({ entries: [{ name: 'A', key: 'STORE_A', version: '4' }] }, 'STORE_A'), ['4']);
    assert.deepEqual(servedVersions({ managers: [{ entries: [{ name: 'A', version: '4' }] }, { entries: [{ name: 'A', version: '5' }] }] }, 'A'), ['4', '5']);
    assert.deepEqual(servedVersions({ managers: 'nope' }, 'A'), []);
    assert.equal(failedRequestsOf({ failedRequests: 1, managers: [{ requests: { failed: 2 } }] }), 3);
    assert.equal(failedRequestsOf({ requests: { failed: 'x' } }), undefined);
  });

  it('refuses bad usage with exit 2', async () => {
    const env = { KEYSHIFT_ADMIN_TOKEN: TOKEN };
    for (const argv of [
      ['verify-rotation', '--instances', 'http://127.0.0.1:1'],
      ['verify-rotation', '--entry', ENTRY],
      ['verify-rotation', '--entry', ENTRY, '--instances', 'ftp://x'],
      ['verify-rotation', '--entry', ENTRY, '--instances', 'http://127.0.0.1:1', '--deadline-ms', '-3'],
    ]) {
      assert.equal((await runInProcess(argv, { env, cwd: tmpdir() })).code, 2, argv.join(' '));
    }
    assert.equal((await runInProcess(['verify-rotation', '--entry', ENTRY, '--instances', 'http://127.0.0.1:1'], { env: {}, cwd: tmpdir() })).code, 2);
  });

  it('a mistyped --entry or --store exits 3 before anything is put or any instance polled, and creates nothing', async (ctx) => {
    const dir = await storeWithEntry(ctx);
    const env = { KEYSHIFT_ADMIN_TOKEN: TOKEN };
    let polled = 0;
    const server = createServer((_req, res) => {
      polled++;
      res.end('{}');
    });
    const url = await listen(server);
    ctx.after(() => new Promise((resolve) => server.close(resolve)));
    const typo = await runInProcess(['verify-rotation', '--store', dir, '--entry', 'CHANGENOW_API_KEX', '--instances', url, '--deadline-ms', '200'], { env, cwd: tmpdir() });
    assert.equal(typo.code, 3, typo.stderr);
    assert.match(typo.stderr, /^keyshift: KS_ERR_SOURCE_NOT_FOUND: secret NAME not found in the local store /);
    const noStore = await runInProcess(['verify-rotation', '--store', join(dir, 'no-such-store'), '--entry', ENTRY, '--instances', url, '--deadline-ms', '200'], { env, cwd: tmpdir() });
    assert.equal(noStore.code, 3, noStore.stderr);
    assert.equal(polled, 0, 'no instance was polled');
    const store = await openLocalStore({ dir, create: false });
    try {
      assert.deepEqual((await store.list()).map((info) => `${info.name} ${info.latest}`), [`${ENTRY} 1`], 'nothing was put, the typo made no secret');
    } finally {
      await store.close();
    }
    assert.ok(!existsSync(join(dir, 'no-such-store')), 'no store was created');
  });
});
