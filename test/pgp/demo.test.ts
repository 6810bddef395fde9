import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveEntry } from '../../src/core/define-secrets.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { catalog } from '../../examples/pgp/catalog/all-secrets.ts';
import { type ProcessRun, runProcess } from '../_process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `tsx bin/start.ts ARGS` (what `npm start -- ARGS` runs); `until` sends SIGINT once stdout matches it. */
function start(args: string[], until?: RegExp): Promise<ProcessRun> {
  const run = runProcess(process.execPath, ['--import', 'tsx', 'bin/start.ts', ...args], { cwd: ROOT });
  if (until) {
    const watch = (): void => {
      if (!until.test(run.stdout())) return;
      run.child.stdout?.off('data', watch);
      run.child.kill('SIGINT');
    };
    run.child.stdout?.on('data', watch);
  }
  return run.done;
}

/** Every value, of every version, of every secret-category entry in the store. */
async function secretValues(dir: string): Promise<{ values: { name: string; value: string }[]; changeNowVersions: number }> {
  const store = await openLocalStore({ dir, create: false });
  const values: { name: string; value: string }[] = [];
  const changeNowVersions = (await store.versions('CHANGENOW_API_KEY')).length;
  for (const [name, entry] of Object.entries(catalog)) {
    if (!resolveEntry(name, entry).secret) continue;
    for (const { version } of await store.versions(name)) {
      values.push({ name, value: Buffer.from((await store.access(name, version)).value).toString('utf8') });
    }
  }
  await store.close();
  return { values, changeNowVersions };
}

describe('npm start: the PGP demo', () => {
  it('--once: rotations under load with zero failed requests, pushed to every holder, and no secret printed', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keyshift-demo-test-'));
    try {
      const dir = join(root, 'store');
      const run = await start(['--once', '--rotations', '4', '--rate', '40', '--store', dir]);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /summary: 4 rotations of CHANGENOW_API_KEY under load/);
      assert.match(run.stdout, /requests +[\d,]+, 0 failed/);
      assert.match(run.stdout, /propagation +p50 \d+ ms, max \d+ ms to every holder, by push/);
      assert.match(run.stdout, /ChangeNow +[\d,]+ calls on the current key, [\d,]+ on the previous one in its grace period, 0 refused/);
      assert.match(run.stdout, /result +PASS/);
      const { values, changeNowVersions } = await secretValues(dir);
      assert.equal(changeNowVersions, 5, 'the seeded key and 4 rotations');
      assert.ok(values.length >= 25, `only ${values.length} secret values in the store`);
      const output = run.stdout + run.stderr;
      for (const { name, value } of values) assert.ok(!output.includes(value), `the value of ${name} was printed`);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('stops cleanly on Ctrl-C (SIGINT): summary printed, exit 0', async () => {
    const root = await mkdtemp(join(tmpdir(), 'keyshift-demo-test-'));
    try {
      const run = await start(['--interval-ms', '300', '--rate', '20', '--store', join(root, 'store')], /\b1 rotations/);
      assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /dashboard +http:\/\/127\.0\.0\.1:\d+\/admin\/dashboard/);
      assert.match(run.stdout, /summary: \d+ rotations/);
      assert.match(run.stdout, /result +PASS/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
