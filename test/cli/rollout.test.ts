import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROLLOUT_ANNOTATION } from '../../src/core/adoption.ts';
import { generateMasterKey, openLocalStore } from '../../src/local-store/index.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { runInProcess } from './_run.ts';

describe('CLI: keyshift rollout on the local store', () => {
  let dir: string;
  const env = { KEYSHIFT_MASTER_KEY: generateMasterKey() };
  const run = (...argv: string[]) => runInProcess(['rollout', 'CN_API_KEY', '--store', dir, ...argv], { env, cwd: dir });
  const view = async (...argv: string[]) => {
    const r = await run(...argv, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { version: string; previous: string; state: string; fraction?: number; marker?: { state: string; reason?: string }; markerError?: string };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyshift-rollout-cli-'));
    const store = await openLocalStore({ dir, env });
    await store.put('CN_API_KEY', 'fake-key-one');
    await store.put('CN_API_KEY', 'fake-key-two');
    await store.updateSecret('CN_API_KEY', { annotations: { team: 'payments' } });
    await store.close();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('shows, halts, resumes and promotes through the marker, keeping other annotations, and a source reads it', async () => {
    const shown = await view('--bake-ms', '600000');
    assert.deepEqual([shown.version, shown.previous, shown.state, shown.fraction], ['2', '1', 'rolling-out', 0.1]);
    const halted = await view('--halt', '--reason', 'provider says not active');
    assert.deepEqual([halted.state, halted.marker?.reason], ['halted', 'provider says not active']);
    const source = localStore({ dir, env });
    const marker = await source.rolloutMarker?.('CN_API_KEY', { signal: AbortSignal.timeout(5_000) });
    assert.deepEqual([marker?.version, marker?.state], ['2', 'halted']);
    await source.close?.();
    assert.equal((await view('--resume')).state, 'rolling-out');
    assert.equal((await view('--promote', '--bake-ms', '600000')).fraction, 1);
    const store = await openLocalStore({ dir, env });
    const info = await store.getSecret('CN_API_KEY');
    assert.equal(info.annotations.team, 'payments');
    assert.match(info.annotations[ROLLOUT_ANNOTATION] ?? '', /"state":"promoted"/);
    // a marker another tool wrote: shown as unreadable, never a crash
    await store.updateSecret('CN_API_KEY', { annotations: { ...info.annotations, [ROLLOUT_ANNOTATION]: 'paused!' } });
    await store.close();
    const bad = await view();
    assert.ok(bad.markerError?.includes('KS_ERR') || /not JSON/.test(bad.markerError ?? ''));
    const table = await run();
    assert.equal(table.code, 0);
    assert.match(table.stdout, /unreadable \(ignored by instances\)/);
    assert.ok(!table.stdout.includes('fake-key'), 'no value printed');
  });

  it('refuses two actions and --reason without --halt (exit 2), and fails on aws:// (no annotations)', async () => {
    assert.equal((await run('--halt', '--promote')).code, 2);
    assert.equal((await run('--reason', 'x')).code, 2);
    const aws = await runInProcess(['rollout', 'CN_API_KEY', '--store', 'aws://eu-west-1', '--endpoint', 'http://127.0.0.1:1'], { env, cwd: dir });
    assert.notEqual(aws.code, 0);
  });

  it('--version names an existing version: a missing one exits 3, a malformed one 2, --steps without --bake-ms 2, and no marker is written', async () => {
    const before = await view();
    const missing = await run('--version', '9', '--halt');
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /^keyshift: KS_ERR_SOURCE_NOT_FOUND: secret NAME has no version N\n$/);
    const malformed = await run('--version', 'fake-version-x', '--promote');
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /--version must be a version number/);
    assert.ok(!malformed.stderr.includes('fake-version-x'));
    const steps = await run('--steps', '0.5');
    assert.equal(steps.code, 2);
    assert.match(steps.stderr, /--steps goes with --bake-ms/);
    const now = await view();
    assert.deepEqual([now.state, now.marker, now.markerError], [before.state, before.marker, before.markerError], 'the marker is unchanged');
    const older = await view('--version', '1', '--halt');
    assert.deepEqual([older.version, older.state], ['1', 'halted']);
    assert.equal((await view('--version', '1', '--resume')).marker, undefined);
  });
});
