import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runProcess } from '../_process.ts';

const clientDir = fileURLToPath(new URL('../../clients/python/', import.meta.url));
const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;

describe('Python client (clients/python) against a real agent', () => {
  it('passes its unittest suite with the machine\'s python3', { skip: python === undefined ? 'python3 is not installed on this machine (CI has it)' : false }, async () => {
    const run = await runProcess(python as string, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.', '-v'], { cwd: clientDir }).done;
    assert.equal(run.code, 0, `python3 -m unittest failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /Ran \d+ tests/);
    assert.match(run.stderr, /\nOK/);
  });
});
