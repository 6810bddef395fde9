import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { CliIo } from '../../src/cli/_command.ts';
import { main } from '../../src/cli/main.ts';
import { openLocalStore } from '../../src/local-store/index.ts';

const TOKEN = 'serve-test-admin-token-0123456789';

/** A temporary local store holding `secrets`. */
async function storeWith(secrets: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'keyshift-serve-'));
  const store = await openLocalStore({ dir, create: true, env: {} });
  for (const [name, value] of Object.entries(secrets)) await store.put(name, value);
  const cleanup = async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, store, cleanup };
}

/** Starts `keyshift serve` in-process; resolves once it printed its dashboard URL. */
async function startServe(argv: string[], env: NodeJS.ProcessEnv) {
  const controller = new AbortController();
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdin: Readable.from([]),
    stdout: {
      write: (chunk: string | Uint8Array) => {
        out.stdout += Buffer.from(chunk).toString();
        return true;
      },
    },
    stderr: {
      write: (chunk: string) => {
        out.stderr += chunk;
        return true;
      },
    },
    env,
    cwd: process.cwd(),
    signal: controller.signal,
  };
  const exited = main(['serve', '--port', '0', ...argv], io);
  let ended = false;
  void exited.then(() => {
    ended = true;
  });
  while (!out.stdout.includes('dashboard:') && !ended) await new Promise((resolve) => setTimeout(resolve, 20));
  const base = /dashboard: (http:\/\/\S+)admin\/dashboard/.exec(out.stdout)?.[1];
  const stop = async () => {
    controller.abort();
    return exited;
  };
  return { base, out, exited, stop };
}

describe('keyshift serve', () => {
  it('refuses to start without a token and says how to set one', async () => {
    const s = await storeWith({ CHANGENOW_API_KEY: 'fake-serve-key-1' });
    try {
      const run = await startServe(['--store', s.dir], {});
      assert.equal(await run.exited, 1);
      assert.match(run.out.stderr, /no admin token/);
      assert.ok(run.out.stderr.includes(`printf %s "$TOKEN" | keyshift put ADMIN_API_TOKEN --store ${s.dir}`));
      assert.match(run.out.stderr, /KEYSHIFT_ADMIN_TOKEN/);
    } finally {
      await s.cleanup();
    }
  });

  it("serves status, refresh and the dashboard over the store with the store's ADMIN_API_TOKEN, until stopped", async () => {
    const s = await storeWith({
      ADMIN_API_TOKEN: TOKEN,
      CHANGENOW_API_KEY: 'fake-serve-key-1',
      HOST_WALLET_PRIVATE_KEY: 'fake-wallet-key',
    });
    const run = await startServe(['--store', s.dir], {});
    try {
      assert.ok(run.base, run.out.stdout + run.out.stderr);
      assert.match(run.out.stdout, /3 entries from/);
      const auth = { authorization: `Bearer ${TOKEN}` };
      assert.equal((await fetch(`${run.base}admin/status`)).status, 401);
      const status = (await (await fetch(`${run.base}admin/status`, { headers: auth })).json()) as {
        managers: Array<{ entries: Array<{ name: string; kind: string; version: string }> }>;
      };
      const entries = new Map(status.managers[0]?.entries.map((e) => [e.name, e]));
      assert.equal(entries.get('CHANGENOW_API_KEY')?.kind, 'dynamic');
      assert.equal(entries.get('HOST_WALLET_PRIVATE_KEY')?.kind, 'static', 'the policy keeps private keys static');
      await s.store.put('CHANGENOW_API_KEY', 'fake-serve-key-2');
      const refreshed = await fetch(`${run.base}admin/refresh`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: '{"names":["CHANGENOW_API_KEY"]}',
      });
      assert.equal(refreshed.status, 200);
      const [result] = ((await refreshed.json()) as { results: Array<{ version: string }> }).results;
      assert.equal(result?.version, '2');
      assert.equal((await fetch(`${run.base}admin/dashboard`)).status, 200);
      assert.equal((await fetch(`${run.base}readyz`)).status, 200);
    } finally {
      assert.equal(await run.stop(), 0);
      await s.cleanup();
    }
    assert.match(run.out.stdout, /keyshift serve: stopped/);
    for (const text of [run.out.stdout, run.out.stderr]) {
      assert.equal(text.includes('fake-serve-key') || text.includes('fake-wallet-key') || text.includes(TOKEN), false);
    }
  });

  it('takes KEYSHIFT_ADMIN_TOKEN first, and serves under --base-path', async () => {
    const s = await storeWith({ ADMIN_API_TOKEN: TOKEN, FLAG: 'on' });
    const run = await startServe(['--store', s.dir, '--base-path', '/ops'], { KEYSHIFT_ADMIN_TOKEN: 'env-admin-token-0123456789abcdef' });
    try {
      assert.match(run.base ?? '', /\/ops\/$/);
      assert.equal((await fetch(`${run.base}admin/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 403);
      assert.equal((await fetch(`${run.base}admin/status`, { headers: { authorization: 'Bearer env-admin-token-0123456789abcdef' } })).status, 200);
      assert.match(run.out.stdout, /token: {5}\$KEYSHIFT_ADMIN_TOKEN/);
    } finally {
      assert.equal(await run.stop(), 0);
      await s.cleanup();
    }
  });
});
