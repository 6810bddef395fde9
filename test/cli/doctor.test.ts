import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { CliIo } from '../../src/cli/_command.ts';
import { doctor } from '../../src/cli/commands/doctor.ts';
import { openLocalStore } from '../../src/local-store/index.ts';

function io(env: NodeJS.ProcessEnv): CliIo & { out: () => string } {
  let out = '';
  return {
    stdin: Readable.from([]),
    stdout: { write: (c: string | Uint8Array) => (out += String(c)) },
    stderr: { write: () => true },
    env,
    cwd: process.cwd(),
    out: () => out,
  };
}

describe('CLI: keyshift doctor', () => {
  it('passes on a healthy store, and says which optional peers are installed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-doctor-'));
    const store = await openLocalStore({ dir });
    await store.put('ADMIN_API_TOKEN', 'x'.repeat(32));
    await store.close();
    const cli = io({});
    assert.equal(await doctor.run(['--store', dir, '--json'], cli), 0);
    const checks = JSON.parse(cli.out()) as Array<{ check: string; verdict: string; detail: string }>;
    assert.equal(checks.find((c) => c.check === 'local store')?.verdict, 'ok');
    assert.equal(checks.find((c) => c.check === 'admin token')?.verdict, 'ok');
    assert.equal(checks.find((c) => c.check === 'pg')?.verdict, 'ok');
    // the floor is package.json's engines (20.19), not the major version alone
    const engines = (JSON.parse(await readFile('package.json', 'utf8')) as { engines: { node: string } }).engines.node;
    const node = checks.find((c) => c.check === 'node');
    assert.equal(node?.verdict, 'ok');
    assert.ok(node?.detail.includes(`${engines.replace('>=', '')} or later`), node?.detail);
    assert.ok(!cli.out().includes('x'.repeat(32)));
    await rm(dir, { recursive: true, force: true });
  });

  it('fails, naming the fix, when the master key file is readable by others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-doctor-'));
    const store = await openLocalStore({ dir });
    await store.close();
    await chmod(join(dir, 'master.key'), 0o644);
    const cli = io({});
    assert.equal(await doctor.run(['--store', dir], cli), 1);
    assert.match(cli.out(), /master key file\s+fail\s+master\.key has mode 644; run chmod 600/);
    await rm(dir, { recursive: true, force: true });
  });

  it('fails with the store error code when the master key is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-doctor-'));
    const store = await openLocalStore({ dir });
    await store.put('A', 'a');
    await store.close();
    const cli = io({ KEYSHIFT_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') });
    assert.equal(await doctor.run(['--store', dir], cli), 1);
    assert.match(cli.out(), /KS_ERR_MASTER_KEY/);
    await rm(dir, { recursive: true, force: true });
  });
});
