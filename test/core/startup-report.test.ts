import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createKeyshift, defineSecrets, ErrorCodes, StartupError, t } from '../../src/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { env } from '../../src/sources/env.ts';
import { localStore } from '../../src/sources/local-store.ts';
import type { Logger } from '../../src/types.ts';

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (_obj: Record<string, unknown>, msg: string) => lines.push(`${level} ${msg}`);
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

describe('The start-up report', () => {
  it('lists every entry that did not load, its kind of failure and the fix (the keyshift put command), in one error, with no value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-report-'));
    try {
      const storeDir = join(dir, 'store');
      const store = await openLocalStore({ dir: storeDir, env: {} });
      const canary = `not-a-number-${Math.random().toString(36).slice(2)}`;
      await store.put('FLAT_FEE', canary);
      await store.put('PAYMENTS_URL', 'https://pay.example/');
      await store.close();
      const logger = recordingLogger();
      const ks = createKeyshift(
        defineSecrets({
          PAYMENTS_API_KEY: { type: t.string(), category: 'api-key' },
          PAYMENTS_URL: { type: t.url(), category: 'service-url' },
          FLAT_FEE: { type: t.decimal(), category: 'app-config' },
          WEBHOOK_SECRET: { type: t.string(), category: 'webhook-secret', key: 'HOOK' },
        }),
        { source: localStore({ dir: storeDir, env: {} }), logger, name: 'payments' },
      );
      const error = await ks.ready().then(
        () => assert.fail('ready() resolved'),
        (e: unknown) => e,
      );
      await ks.close();
      assert.ok(error instanceof StartupError);
      assert.equal(error.code, ErrorCodes.STARTUP_FAILED, 'two kinds of failure');
      assert.deepEqual(
        error.failures.map((f) => [f.entry, f.problem, f.code]),
        [
          ['FLAT_FEE', 'rejected', 'KS_ERR_VALUE_REJECTED'],
          ['PAYMENTS_API_KEY', 'missing', 'KS_ERR_SOURCE_NOT_FOUND'],
          ['WEBHOOK_SECRET', 'missing', 'KS_ERR_SOURCE_NOT_FOUND'],
        ],
      );
      const lines = error.message.split('\n');
      assert.equal(lines[0], 'payments: ready() failed: 3 of 4 entries could not be loaded from local-store:');
      assert.equal(lines.length, 7, 'a head line, then two lines per entry');
      assert.match(error.message, new RegExp(`fix: add it: printf %s "\\$VALUE" \\| npx keyshift put PAYMENTS_API_KEY --store ${storeDir.replaceAll('/', '\\/')}`));
      assert.match(error.message, /fix: add it: printf %s "\$VALUE" \| npx keyshift put HOOK --store/, 'the store key, not the entry name');
      assert.match(error.message, /FLAT_FEE\s+rejected\s+KS_ERR_VALUE_REJECTED: entry FLAT_FEE \(decimal\) version 1 rejected/);
      const printed = inspect(error, { depth: 5 });
      assert.ok(!printed.includes(canary) && !error.message.includes(canary), 'no value in the report');
      assert.ok(!printed.includes('AggregateError'));
      assert.equal(printed.split('ready() failed').length, 2, 'printed once: the failures are data, not a second dump');
      assert.deepEqual(logger.lines, [], 'no per-entry warnings at start-up: the report says it');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the kind of failure as the code when every entry failed the same way, and names the variable for env', async () => {
    const ks = createKeyshift(
      defineSecrets({ A: { type: t.string(), category: 'api-key' }, B: { type: t.int(), category: 'app-config' } }),
      { source: env({ env: {}, prefix: 'APP_' }), logger: false },
    );
    const error = await ks.ready().catch((e: unknown) => e);
    await ks.close();
    assert.ok(error instanceof StartupError);
    assert.equal(error.code, ErrorCodes.SOURCE_NOT_FOUND);
    assert.match(error.message, /fix: add it: export APP_A=\.\.\./);
    assert.match(error.message, /fix: add it: export APP_B=\.\.\./);
  });

  it('one failure keeps its entry on the error', async () => {
    const ks = createKeyshift(defineSecrets({ ONLY: { type: t.string(), category: 'api-key' } }), { source: env({ env: {} }), logger: false });
    const error = await ks.ready().catch((e: unknown) => e);
    await ks.close();
    assert.ok(error instanceof StartupError);
    assert.equal(error.entry, 'ONLY');
    assert.equal(error.failures.length, 1);
  });
});
