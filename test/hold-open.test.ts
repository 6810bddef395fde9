import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { runProcess } from './_process.ts';

const HELPER = new URL('./_hold-open.ts', import.meta.url).href;

/**
 * A child that awaits an event only an unref'd timer delivers (as keyshift's watchers are),
 * with or without holdOpen. Without it, the child is plain node (no loader hooks, whose
 * worker could hold the loop for a moment), so nothing else holds the loop.
 */
function child(hold: boolean) {
  const wait = 'new Promise((resolve) => setTimeout(() => resolve("delivered"), 1_000).unref())';
  if (!hold) {
    const { NODE_OPTIONS: _hooks, ...env } = process.env;
    return runProcess(process.execPath, ['--input-type=module', '-e', `console.log(await ${wait});`], { env }).done;
  }
  const script = `const { holdOpen } = await import(${JSON.stringify(HELPER)}); console.log(await holdOpen(${wait}));`;
  return runProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]).done;
}

describe('holdOpen (test/_hold-open.ts), the rule in CONTRIBUTING.md', () => {
  it('without it, a process awaiting an event only unref\'d handles deliver ends before the event (the cancelled tests)', async () => {
    const run = await child(false);
    assert.equal(run.stdout, '', 'the event was never delivered');
    assert.equal(run.code, 13, `exit code 13: unsettled top-level await (${run.stderr.trim()})`);
  });

  it('with it, the same await is delivered and the process then exits on its own', async () => {
    const run = await child(true);
    assert.deepEqual([run.code, run.stdout], [0, 'delivered\n'], run.stderr);
  });
});
