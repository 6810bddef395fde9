/**
 * Plan 18 in CI: bench/soak.ts for ~3 s in a child process (its own handles, warnings and
 * rejections), asserting what does not depend on timing. The long run and its heap and RSS
 * figures are in the bench (docs/benchmarks.md).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { SoakFigures } from '../../bench/soak.ts';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../../bench/soak.ts', import.meta.url));

describe('Plan 18: long soak (3 s in CI, the hour in bench/soak.ts)', () => {
  it('serves every request through faults and refreshes; handles back to baseline after close(), 0 warnings, 0 unhandled rejections', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, '--seconds', '3', '--json'], { timeout: 60_000 });
    const f = JSON.parse(stdout.trim().split('\n').at(-1) as string) as SoakFigures;
    assert.ok(f.requests > 0, 'requests were made');
    assert.equal(f.failedRequests, 0);
    assert.ok(f.faultSeconds > 0, 'the store was faulted during the run');
    assert.ok(f.refreshes > 0 && f.changes > 0, 'the hot entry was refreshed');
    assert.ok(f.handlesDuring > 0, 'the manager held handles while running');
    assert.deepEqual(f.handlesAfterClose, f.handlesBefore);
    assert.equal(f.maxListenerWarnings, 0);
    assert.equal(f.warnings, 0);
    assert.equal(f.unhandledRejections, 0);
  });
});
