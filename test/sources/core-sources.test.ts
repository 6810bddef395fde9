import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, ErrorCodes, t } from '../../src/index.ts';
import { env } from '../../src/sources/env.ts';
import { fallbackChain } from '../../src/sources/fallback-chain.ts';
import { fileSource } from '../../src/sources/file.ts';
import { memorySource } from '../../src/testing/index.ts';
import { holdOpen } from '../_hold-open.ts';
import { testSource } from './_conformance.ts';

testSource('env', {
  capabilities: { write: true, watch: false, sizeCap: false },
  async setup() {
    const vars: NodeJS.ProcessEnv = {};
    return { source: env({ env: vars }), put: async (n, v) => {
        vars[n] = v;
      }, teardown: async () => {} };
  },
});

testSource('memory', {
  capabilities: { write: true, watch: true, sizeCap: false },
  async setup() {
    const source = memorySource();
    return { source, put: async (n, v) => void source.set(n, v), teardown: async () => {} };
  },
});

testSource('file', {
  capabilities: { write: true, watch: true, sizeCap: true },
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'ks-file-'));
    return {
      source: fileSource({ dir, rescanMs: 200 }),
      put: (n, v) => writeFile(join(dir, n), v),
      teardown: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

testSource('fallback-chain', {
  capabilities: { write: true, watch: true, sizeCap: false },
  async setup() {
    const primary = memorySource();
    return { source: fallbackChain([primary, env({ env: {} })]), put: async (n, v) => void primary.set(n, v), teardown: async () => {} };
  },
});

describe('Source: file', () => {
  it('follows a Kubernetes-style ..data symlink swap (F15) and the manager serves the new value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-k8s-'));
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'API_KEY'), 'one\n');
    await symlink('..v1', join(dir, '..data'));
    await symlink('..data/API_KEY', join(dir, 'API_KEY'));
    const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } }), {
      source: fileSource({ dir, rescanMs: 100 }),
      logger: false,
      minRefreshIntervalMs: 0,
    });
    await ks.ready();
    assert.equal(ks.get('API_KEY').reveal(), 'one');
    const changed = new Promise((resolve) => ks.on('change', resolve));
    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'API_KEY'), 'two\n');
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data')); // the atomic swap kubelet does
    await holdOpen(changed); // the watcher is unref'd
    assert.equal(ks.get('API_KEY').reveal(), 'two');
    await ks.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a 10 MB file without buffering it whole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-big-'));
    await writeFile(join(dir, 'BIG'), Buffer.alloc(10 * 1024 * 1024, 0x61));
    const before = process.memoryUsage().arrayBuffers;
    await assert.rejects(fileSource({ dir }).get('BIG', { signal: new AbortController().signal, maxBytes: 64 * 1024 }), {
      code: ErrorCodes.VALUE_TOO_LARGE,
    });
    assert.ok(process.memoryUsage().arrayBuffers - before < 2 * 1024 * 1024);
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the same text as env and the memory store (one BOM/newline rule)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-rule-'));
    await writeFile(join(dir, 'A'), '\ufeffvalue\n');
    const decl = defineSecrets({ A: { type: t.string() } });
    const read = async (source: Parameters<typeof createKeyshift>[1]['source']) => {
      const ks = createKeyshift(decl, { source, logger: false });
      await ks.ready();
      const v = ks.get('A');
      await ks.close();
      return v;
    };
    assert.equal(await read(fileSource({ dir })), 'value');
    assert.equal(await read(env({ env: { A: '\ufeffvalue\n' } })), 'value');
    assert.equal(await read(memorySource({ values: { A: '\ufeffvalue\n' } })), 'value');
    await rm(dir, { recursive: true, force: true });
  });
});

describe('Source: fallback chain (plan test 9)', () => {
  it('starts from env when the store is down and shows the fallback in status', async () => {
    const store = memorySource({ values: { API_KEY: 'from-store' } });
    store.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key' } }), {
      source: fallbackChain([store, env({ env: { API_KEY: 'from-env' } })]),
      logger: false,
    });
    await ks.ready();
    assert.equal(ks.get('API_KEY').reveal(), 'from-env');
    assert.equal(ks.status().entries[0]?.source, 'env');
    await ks.close();
  });

  it('throws the first failure when every source fails', async () => {
    const a = memorySource();
    a.fail({ code: ErrorCodes.SOURCE_DENIED });
    const chain = fallbackChain([a, env({ env: {} })]);
    await assert.rejects(chain.get('X', { signal: new AbortController().signal, maxBytes: 10 }), { code: ErrorCodes.SOURCE_DENIED });
  });
});
