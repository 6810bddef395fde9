import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveEntry } from '../../src/core/define-secrets.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { catalog } from '../../examples/pgp/catalog/all-secrets.ts';
import { CANARY_ENTRY } from '../../examples/pgp/demo/canary-fleet.ts';
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
async function secretValues(dir: string) {
  const store = await openLocalStore({ dir, create: false });
  const values: { name: string; value: string }[] = [];
  const changeNowVersions = (await store.versions('CHANGENOW_API_KEY')).length;
  const names = Object.entries(catalog).flatMap(([name, entry]) => (resolveEntry(name, entry).secret ? [name] : []));
  for (const name of [...names, CANARY_ENTRY]) {
    for (const { version } of await store.versions(name)) {
      values.push({ name, value: Buffer.from((await store.access(name, version)).value).toString('utf8') });
    }
  }
  const marker = (await store.getSecret(CANARY_ENTRY)).annotations['keyshift-rollout'];
  const canaryVersions = (await store.versions(CANARY_ENTRY)).map((v) => String(v.version));
  await store.close();
  return { values, changeNowVersions, canaryVersions, marker: marker === undefined ? undefined : (JSON.parse(marker) as Record<string, unknown>) };
}

describe('npm start: the PGP demo', () => {
  it('--once: rotations under load with zero failed requests, a canary that rolls a good key out and halts a bad one, and no secret printed', async () => {
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

      // the canary: a good key rolled out to the whole fleet in steps, with no failed request
      const good = /good key +version (\d+): rolled out, ([\d >-]+) instances, complete in [\d.]+ s, 0 failed/.exec(run.stdout);
      assert.ok(good, run.stdout);
      const steps = (good[2] ?? '').split(' -> ').map(Number);
      assert.equal(steps.at(-1), 10, 'every instance of the fleet');
      assert.ok(steps.length >= 2 && (steps[0] ?? 10) < 10, `the good key went through slices: ${good[2]}`);
      // a bad key halted: served by a slice only, marked halted in the store, every instance back on the good one
      const bad = /bad key +version (\d+): served by (\d+)\/10 \(\d+ %; first slice (\d+).*?\), (\d+) failures counted, halted \(marker in the store\).*?, (\d+)\/10 on version (\d+) after the bake/.exec(run.stdout);
      assert.ok(bad, run.stdout);
      const [servedBy, firstSlice, counted] = [Number(bad[2]), Number(bad[3]), Number(bad[4])];
      assert.ok(servedBy >= 1 && servedBy < 10, `served by ${servedBy}`);
      assert.ok(firstSlice >= 1, 'the first slice is not empty');
      assert.ok(counted >= 2 && counted <= 2 * servedBy, `${counted} failures counted`);
      assert.equal(bad[5], '10', 'every instance back');
      assert.equal(bad[6], good[1], 'back on the good version');
      // its failed requests: a separate count, within maxFailures x the instances that served it
      const price = /requests +([\d,]+) to the canary fleet, (\d+) failed: the bad key's price, limit 2 failures x (\d+) instances = (\d+) \(within it\); not in the count above/.exec(run.stdout);
      assert.ok(price, run.stdout);
      assert.equal(Number(price[3]), servedBy);
      assert.ok(Number(price[2]) >= 2 && Number(price[2]) <= Number(price[4]), `${price[2]} failed, limit ${price[4]}`);

      const { values, changeNowVersions, canaryVersions, marker } = await secretValues(dir);
      assert.equal(changeNowVersions, 5, 'the seeded key and 4 rotations');
      assert.deepEqual(canaryVersions.slice(-2), [good[1], bad[1]], 'the canary put the good key, then the bad one');
      assert.equal(marker?.version, bad[1]);
      assert.equal(marker?.state, 'halted');
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
      assert.match(run.stdout, /canary +(stopped before it finished|CHANGENOW_CANARY_API_KEY on 10)/);
      assert.match(run.stdout, /result +PASS/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
