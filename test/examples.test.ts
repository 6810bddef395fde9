import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openLocalStore } from 'keyshift/local-store';

describe('README quick start', () => {
  it('examples/quickstart.ts runs against a local store and prints no secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-qs-'));
    const cwd = process.cwd();
    const store = await openLocalStore({ dir: join(dir, '.keyshift/store') });
    const apiKey = `canary-${Math.random().toString(36).slice(2)}`;
    await store.put('CHANGENOW_API_KEY', apiKey);
    await store.put('PGP_SPLIT2_URL', 'http://127.0.0.1:9/');
    await store.put('TP_FLAT_FEE', '1.25');
    await store.put('SUCCESS_URL_SIGNING_KEY', 's'.repeat(40));
    await store.close();
    const printed: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => printed.push(args.join(' '));
    try {
      process.chdir(dir);
      const { main } = await import('../examples/quickstart.ts');
      await main();
    } finally {
      process.chdir(cwd);
      console.log = log;
    }
    assert.deepEqual(printed, ['[redacted] 2.5']);
    assert.ok(!printed.join('').includes(apiKey));
    await rm(dir, { recursive: true, force: true });
  });
});
