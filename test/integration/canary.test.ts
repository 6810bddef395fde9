import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startChangeNowServer, type ChangeNowServer } from '../../examples/pgp/stand-ins/changenow-server.ts';
import { adoptionSlot } from '../../src/core/adoption.ts';
import { generateMasterKey, openLocalStore } from '../../src/local-store/index.ts';
import { runInProcess } from '../cli/_run.ts';

const N = 10;
const BAKE_MS = 12_000;
const FIRST = 0.2;
const MAX_FAILURES = 2;

interface ChildState {
  type: 'state';
  version: string;
  servedVersions: string[];
  failedByVersion: Record<string, number>;
  okByVersion: Record<string, number>;
  halts: number;
  rollout: { version: string; halted: boolean } | null;
}

/** Instance ids for which the first slice of version `bad` holds 1 to 3 of N instances (so the halt is exercised), found deterministically. */
function pickIds(bad: string): string[] {
  for (let salt = 0; ; salt++) {
    const ids = Array.from({ length: N }, (_, i) => `fleet-${salt}-${i}`);
    const first = ids.filter((id) => adoptionSlot(id, 'CN_API_KEY', bad) < FIRST).length;
    if (first >= 1 && first <= 3) return ids;
  }
}

describe('canary adoption: 10 instance processes on the local store, the ChangeNow stand-in under load', { timeout: 240_000 }, () => {
  let dir: string;
  let key: string;
  let cn: ChangeNowServer;
  let children: ChildProcess[] = [];
  const env = () => ({ ...process.env, NODE_OPTIONS: '', KEYSHIFT_MASTER_KEY: key });
  const ids = pickIds('3');

  const query = (child: ChildProcess): Promise<ChildState> =>
    new Promise((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== 'state') return;
        child.off('message', on);
        resolve(m as ChildState);
      };
      child.on('message', on);
      child.send({ type: 'query' });
    });
  const states = () => Promise.all(children.map(query));
  const until = async (what: string, ok: (s: ChildState[]) => boolean, limitMs: number): Promise<{ states: ChildState[]; ms: number }> => {
    const started = performance.now();
    for (;;) {
      const s = await states();
      if (ok(s)) return { states: s, ms: performance.now() - started };
      if (performance.now() - started > limitMs) assert.fail(`${what}: not reached in ${limitMs} ms: ${JSON.stringify(s.map((x) => x.version))}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyshift-canary-'));
    key = generateMasterKey();
    cn = await startChangeNowServer({ apiKey: 'cn_live_initial_key_0000000000', graceMs: 1_000 });
    const store = await openLocalStore({ dir, env: { KEYSHIFT_MASTER_KEY: key } });
    await store.put('CN_API_KEY', 'cn_live_initial_key_0000000000');
    await store.close();
    children = ids.map((id) =>
      fork(fileURLToPath(new URL('./_canary-child.ts', import.meta.url)), [dir, id, cn.url, String(BAKE_MS)], {
        execArgv: ['--import', 'tsx', '--unhandled-rejections=strict'],
        env: env(),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    );
    await Promise.all(children.map((c) => new Promise<void>((resolve, reject) => {
      c.once('exit', (code) => reject(new Error(`child exited ${code}`)));
      c.on('message', (m: { type: string }) => m.type === 'ready' && resolve());
    })));
  });

  after(async () => {
    for (const c of children) {
      c.removeAllListeners('exit');
      if (c.connected) c.send({ type: 'stop' });
    }
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((resolve) => c.once('exit', resolve)) : undefined)));
    await cn?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a good key reaches every instance within the bake plus one notification, with 0 failed requests', async () => {
    const good = cn.issueKey();
    const store = await openLocalStore({ dir, env: { KEYSHIFT_MASTER_KEY: key } });
    await store.put('CN_API_KEY', good);
    await store.close();
    const firstSlice = ids.filter((id) => adoptionSlot(id, 'CN_API_KEY', '2') < FIRST).length;
    const early = await until('the first slice', (s) => s.filter((x) => x.version === '2').length >= firstSlice, 60_000);
    // the TTL is an hour: only the bake's own steps (and notifications) move instances
    const all = await until('everyone on version 2', (s) => s.every((x) => x.version === '2'), BAKE_MS + 20_000);
    const failed = all.states.reduce((n, x) => n + Object.values(x.failedByVersion).reduce((a, b) => a + b, 0), 0);
    const ok = all.states.reduce((n, x) => n + (x.okByVersion['2'] ?? 0) + (x.okByVersion['1'] ?? 0), 0);
    console.log(`good key: first slice ${firstSlice}/${N} after ${Math.round(early.ms)} ms, all ${N} after ${Math.round(early.ms + all.ms)} ms (bake ${BAKE_MS} ms); ${ok} requests ok, ${failed} failed`);
    assert.equal(failed, 0);
    assert.ok(ok > 0);
  });

  it('a key the provider rejects is served by the first slice at most, halted past the threshold, and every instance is back on the old key', async () => {
    const bad = cn.issueKey({ activeAfterMs: 1e12 }); // a key the provider has not activated
    const store = await openLocalStore({ dir, env: { KEYSHIFT_MASTER_KEY: key } });
    const { version } = await store.put('CN_API_KEY', bad);
    await store.close();
    assert.equal(String(version), '3');
    const firstSlice = ids.filter((id) => adoptionSlot(id, 'CN_API_KEY', '3') < FIRST).length;
    const done = await until(
      'every instance halted and on version 2',
      (s) => s.every((x) => x.version === '2' && x.rollout?.version === '3' && x.rollout.halted),
      BAKE_MS + 20_000,
    );
    // keep serving past the bake's end: nobody adopts it later
    await new Promise((resolve) => setTimeout(resolve, BAKE_MS + 1_000));
    const final = await states();
    const served = final.filter((x) => x.servedVersions.includes('3')).length;
    const failed = final.reduce((n, x) => n + (x.failedByVersion['3'] ?? 0), 0);
    console.log(`bad key: served by ${served}/${N} (first slice ${firstSlice}), ${failed} failed requests (threshold ${MAX_FAILURES} x slice ${firstSlice} = ${MAX_FAILURES * firstSlice}), all back on version 2 after ${Math.round(done.ms)} ms`);
    assert.ok(final.every((x) => x.version === '2'), 'every instance back on the old key');
    assert.ok(served <= firstSlice, `served by ${served} > first slice ${firstSlice}`);
    assert.ok(failed <= MAX_FAILURES * firstSlice, `${failed} failed requests`);
    assert.ok(failed >= MAX_FAILURES, 'the halt came from the failures');
    const cli = await runInProcess(['rollout', 'CN_API_KEY', '--json', '--store', dir], { env: { KEYSHIFT_MASTER_KEY: key }, cwd: dir });
    assert.equal(cli.code, 0, cli.stderr);
    const view = JSON.parse(cli.stdout) as { version: string; state: string; marker: { reason: string } };
    assert.deepEqual([view.version, view.state], ['3', 'halted']);
    assert.match(view.marker.reason, /2 failures reported during the bake/);
    assert.ok(!cli.stdout.includes(bad), 'no value in the CLI output');
  });
});
