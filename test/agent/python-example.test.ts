import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startChangeNowServer } from '../../examples/pgp/stand-ins/changenow-server.ts';
import { openLocalStore } from '../../src/local-store/open-local-store.ts';
import { runProcess } from '../_process.ts';
import { getOverSocket } from './_agent-http.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SERVICE = fileURLToPath(new URL('../../examples/pgp/python/changenow_service.py', import.meta.url));
const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;
const ROTATIONS = 20;
const WORKERS = 4;

async function waitFor(read: () => string, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const match = pattern.exec(read());
    if (match) return match;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('examples/pgp/python: the ChangeNow service in Python, through the agent', () => {
  it(`serves under load through ${ROTATIONS} rotations of its API key with 0 failed requests`, { skip: python === undefined ? 'python3 is not installed on this machine (CI has it)' : false }, async () => {
    const root = await mkdtemp(join(tmpdir(), 'keyshift-pgp-python-'));
    const storeDir = join(root, 'store');
    const first = 'cn_live_first_key_0000';
    const changenow = await startChangeNowServer({ apiKey: first, graceMs: 2_000 });
    const store = await openLocalStore({ dir: storeDir, create: true, env: {} });
    await store.put('CHANGENOW_API_KEY', first);
    const socket = join(root, 'agent.sock');
    await writeFile(
      join(root, 'agent.json'),
      JSON.stringify({
        name: 'pgp-python-test',
        source: { kind: 'local-store', dir: 'store' },
        entries: { CHANGENOW_API_KEY: { type: { kind: 'string', minLength: 8 }, category: 'api-key' } },
        api: { socket: 'agent.sock' },
        files: { dir: 'secrets' },
        manager: { minRefreshIntervalMs: 50 },
      }),
    );
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
    delete env.KEYSHIFT_MASTER_KEY;
    const agent = runProcess(process.execPath, ['--import', 'tsx', MAIN, 'agent', '--config', join(root, 'agent.json')], { env });
    let service: ReturnType<typeof runProcess> | undefined;
    const stop = { now: false };
    try {
      await waitFor(agent.stdout, /keyshift agent: ready/);
      service = runProcess(python as string, [SERVICE, '--socket', socket, '--changenow', changenow.url, '--port', '0']);
      const base = (await waitFor((service as ReturnType<typeof runProcess>).stdout, /listening on (http:\S+)/))[1] as string;
      let ok = 0;
      const failures: string[] = [];
      const worker = async () => {
        while (!stop.now) {
          const response = await fetch(`${base}/estimate?amount=100`).catch((e: unknown) => e as Error);
          if (response instanceof Error) failures.push(response.name);
          else if (response.status !== 200) failures.push(`${response.status} ${await response.text()}`);
          else {
            await response.arrayBuffer();
            ok++;
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, worker);
      let current = first;
      for (let i = 0; i < ROTATIONS; i++) {
        const next = changenow.issueKey();
        const version = await store.put('CHANGENOW_API_KEY', next);
        // the agent serves the new version (pushed by the store's change feed)...
        for (;;) {
          const read = await getOverSocket(socket, '/v1/entries/CHANGENOW_API_KEY');
          if (read.body.version === String(version.version)) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        // ...so the provider may retire the old key (it keeps working for its grace period)
        changenow.revokeKey(current);
        current = next;
        const before = ok;
        while (ok < before + 5 && failures.length === 0) await new Promise((r) => setTimeout(r, 5));
      }
      stop.now = true;
      await Promise.all(workers);
      assert.deepEqual(failures, [], 'no failed request');
      assert.ok(ok >= ROTATIONS * 5, `requests were served throughout (${ok})`);
      assert.equal(changenow.stats.refused, 0, 'the provider refused no call');
      assert.doesNotMatch(agent.stdout(), /cn_live_/);
    } finally {
      stop.now = true;
      service?.child.kill('SIGTERM');
      agent.child.kill('SIGTERM');
      const run = await agent.done;
      await service?.done;
      await store.close();
      await changenow.close();
      await rm(root, { recursive: true, force: true });
      assert.equal(run.code, 0, run.stderr);
    }
  });
});
