import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, ErrorCodes, t } from '../../src/index.ts';
import { env } from '../../src/sources/env.ts';
import { fallbackChain } from '../../src/sources/fallback-chain.ts';
import { fileSource } from '../../src/sources/file.ts';
import { createFakeClock, memorySource } from '../../src/testing/index.ts';
import { holdOpen } from '../_hold-open.ts';
import { testSource } from './_conformance.ts';

testSource('env', {
  capabilities: { write: true, watch: false, sizeCap: false, ordered: false },
  async setup() {
    const vars: NodeJS.ProcessEnv = {};
    return { source: env({ env: vars }), put: async (n, v) => {
        vars[n] = v;
      }, teardown: async () => {} };
  },
});

testSource('memory', {
  capabilities: { write: true, watch: true, sizeCap: false, ordered: true },
  async setup() {
    const source = memorySource();
    return { source, put: async (n, v) => void source.set(n, v), teardown: async () => {} };
  },
});

testSource('file', {
  capabilities: { write: true, watch: true, sizeCap: true, ordered: false },
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
  capabilities: { write: true, watch: true, sizeCap: false, ordered: true },
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

  it('starts from env when the store hangs (a network black hole), within the core deadline; once the store served, a hang keeps last-known-good', async () => {
    const clock = createFakeClock();
    const store = memorySource({ values: { API_KEY: 'from-store' } });
    store.fail('hang');
    const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key', ttlMs: 60_000 } }), {
      source: fallbackChain([store, env({ env: { API_KEY: 'from-env' } })], { clock }),
      clock,
      random: () => 0.5,
      logger: false,
    });
    const codes: string[] = [];
    ks.on('error', (e) => codes.push(e.error.code));
    const ready = ks.ready();
    for (let i = 0; i < 30 && !ks.isReady; i++) await clock.tick(100); // 3 s: the core's fetchTimeoutMs
    await ready;
    assert.equal(ks.get('API_KEY').reveal(), 'from-env');
    assert.equal(ks.status().entries[0]?.source, 'env');
    assert.deepEqual(codes, [ErrorCodes.SOURCE_TIMEOUT], 'the fallback is reported with the timeout');
    store.fail(undefined);
    await clock.tick(1_000);
    await ks.refresh('API_KEY');
    assert.equal(ks.get('API_KEY').reveal(), 'from-store', 'the store takes over once it answers');
    store.fail('hang');
    await clock.tick(1_000);
    const refreshed = ks.refresh('API_KEY');
    for (let i = 0; i < 40; i++) await clock.tick(100);
    assert.equal((await refreshed)[0]?.outcome, 'error');
    assert.equal(ks.get('API_KEY').reveal(), 'from-store', 'a hang after the store served is the chain\'s failure: never the env value');
    assert.throws(() => fallbackChain([store], { fallThroughAfterMs: 0 }), { code: ErrorCodes.INVALID_DECLARATION });
    await ks.close();
  });

  it('never rolls back a rotation: the store served v2 and went down, the next refresh keeps v2 instead of the env value', async () => {
    const clock = createFakeClock();
    const store = memorySource({ values: { API_KEY: 'store-v1' } });
    const ks = createKeyshift(defineSecrets({ API_KEY: { type: t.string(), category: 'api-key', ttlMs: 60_000 } }), {
      source: fallbackChain([store, env({ env: { API_KEY: 'deploy-time-env' } })]),
      clock,
      random: () => 0.5,
      logger: false,
    });
    const errors: string[] = [];
    ks.on('error', (e) => errors.push(e.error.code));
    await ks.ready();
    store.set('API_KEY', 'store-v2');
    await ks.refresh('API_KEY');
    assert.equal(ks.get('API_KEY').reveal(), 'store-v2');
    store.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    await clock.tick(60_000); // the next TTL refresh, whatever its spread
    assert.ok(store.totalCalls >= 3, 'the store was asked again');
    assert.equal(ks.get('API_KEY').reveal(), 'store-v2', 'the last-known-good value, not the env value');
    const [entry] = ks.status().entries;
    assert.equal(entry?.source, 'memory');
    assert.equal(entry?.stale, true);
    assert.ok(errors.length > 0 && errors.every((c) => c === ErrorCodes.SOURCE_UNAVAILABLE), 'the outage is reported');
    await ks.close();
  });

  it('serves env only while the store never served the entry, and hands over to the store for good once it does', async () => {
    const store = memorySource({ values: { A: 'from-store' } });
    store.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    const chain = fallbackChain([store, env({ env: { A: 'from-env', B: 'only-env' } })]);
    const get = (name: string) => chain.get(name, { signal: new AbortController().signal, maxBytes: 1024 });
    assert.equal((await get('A'))?.value, 'from-env', 'start-up with the store down');
    assert.equal((await get('A'))?.fallbackFrom?.code, ErrorCodes.SOURCE_UNAVAILABLE);
    store.fail(undefined);
    assert.equal((await get('A'))?.value, 'from-store');
    store.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    await assert.rejects(get('A'), { code: ErrorCodes.SOURCE_UNAVAILABLE }, 'after the store served A, its failure is the answer');
    assert.equal((await get('B'))?.value, 'only-env', 'an entry the store never served still falls through');
    store.fail(undefined);
    store.delete('A');
    assert.equal(await get('A'), undefined, 'a not-found after the store served A does not bring back env (default)');
    assert.equal((await get('B'))?.value, 'only-env', 'the store lacks B: env serves it');
  });

  it('with notFoundFallsThrough, a not-found in the store lets env serve again; a failure still does not', async () => {
    const store = memorySource({ values: { A: 'from-store' } });
    const chain = fallbackChain([store, env({ env: { A: 'from-env' } })], { notFoundFallsThrough: true });
    const get = (name: string) => chain.get(name, { signal: new AbortController().signal, maxBytes: 1024 });
    assert.equal((await get('A'))?.value, 'from-store');
    store.delete('A');
    assert.equal((await get('A'))?.value, 'from-env');
    store.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
    await assert.rejects(get('A'), { code: ErrorCodes.SOURCE_UNAVAILABLE });
  });

  it('a required entry deleted from the store keeps its last-known-good value and alerts; an optional one becomes absent', async () => {
    const clock = createFakeClock();
    const store = memorySource({ values: { A: 'store-a', B: 'store-b' } });
    const ks = createKeyshift(defineSecrets({ A: { type: t.string() }, B: { type: t.string(), optional: true } }), {
      source: fallbackChain([store, env({ env: { A: 'env-a', B: 'env-b' } })]),
      clock,
      random: () => 0.5,
      logger: false,
    });
    await ks.ready();
    store.delete('A');
    store.delete('B');
    const [a, b] = await ks.refresh(['A', 'B']);
    assert.equal(a?.outcome, 'not-found');
    assert.equal(ks.get('A'), 'store-a');
    assert.equal(b?.outcome, 'changed');
    assert.equal(ks.get('B'), null);
    await ks.close();
  });

  it('throws the first failure when every source fails', async () => {
    const a = memorySource();
    a.fail({ code: ErrorCodes.SOURCE_DENIED });
    const chain = fallbackChain([a, env({ env: {} })]);
    await assert.rejects(chain.get('X', { signal: new AbortController().signal, maxBytes: 10 }), { code: ErrorCodes.SOURCE_DENIED });
  });
});

describe('Sources: their options are checked when they are made', () => {
  it('a typo or a wrong type is KS_ERR_INVALID_DECLARATION naming the source and the option, not a default taken silently', async () => {
    const { dotenv } = await import('../../src/sources/dotenv.ts');
    const { localStore } = await import('../../src/sources/local-store.ts');
    const refused = (make: () => unknown, message: RegExp): void => {
      assert.throws(make, (e: { code?: string; message?: string }) => e.code === ErrorCodes.INVALID_DECLARATION && message.test(e.message ?? ''));
    };
    const loose = <T>(options: unknown): T => options as T;
    refused(() => env(loose({ prefx: 'APP_' })), /^env\(\): unknown option "prefx" \(the options are env, prefix\)$/);
    refused(() => env(loose({ prefix: 5 })), /^env\(\): option prefix must be a string$/);
    refused(() => dotenv(loose({ file: '.env.local' })), /^dotenv\(\): unknown option "file" \(the options are path, prefix, watch\)$/);
    refused(() => dotenv(loose({ watch: 'no' })), /dotenv\(\): option watch must be true or false/);
    refused(() => fileSource(loose({})), /^fileSource\(\) needs options\.dir/);
    refused(() => fileSource(loose(undefined)), /^fileSource\(\) needs options\.dir/);
    refused(() => fileSource(loose({ dir: '/var/secrets', rescan: 5 })), /fileSource\(\): unknown option "rescan"/);
    refused(() => fileSource({ dir: '/var/secrets', rescanMs: -1 }), /fileSource\(\): option rescanMs must be a number of 0 or more/);
    refused(() => memorySource(loose({ value: { A: '1' } })), /memorySource\(\): unknown option "value"/);
    refused(() => memorySource(loose({ values: { FEE: 1.5 } })), /^memorySource\(\): values\.FEE must be a string \(the stored text\)$/);
    refused(() => localStore(loose({ directory: '/tmp/x' })), /^localStore\(\): unknown option "directory" \(the options are dir, masterKey/);
    refused(() => localStore(loose({ masterKey: 42 })), /localStore\(\): option masterKey must be a string or a Uint8Array/);
    const { gcpSecretManager } = await import('../../src/sources/gcp-secret-manager.ts');
    const { awsSecretsManager } = await import('../../src/sources/aws-secrets-manager.ts');
    refused(() => gcpSecretManager(loose({ projet: 'pgp-live' })), /^gcpSecretManager\(\): unknown option "projet" \(the options are client, clientOptions, project/);
    refused(() => gcpSecretManager(loose({ project: 'p', timeoutMs: '3000' })), /gcpSecretManager\(\): option timeoutMs must be a number of 0 or more/);
    refused(() => awsSecretsManager(loose({ region: 'us-east-1' })), /^awsSecretsManager\(\): unknown option "region" \(the options are client, clientConfig/);
    refused(() => awsSecretsManager(loose({ jsonKey: 1 })), /awsSecretsManager\(\): option jsonKey must be a string/);
    assert.equal(gcpSecretManager({ project: 'p', secretId: (n) => n, version: 3, timeoutMs: 1_000 }).kind, 'gcp-secret-manager');
    assert.equal(awsSecretsManager({ clientConfig: { region: 'us-east-1' }, versionStage: 'AWSCURRENT', jsonKey: 'password', orderByCreatedDate: false }).kind, 'aws-secrets-manager');
    refused(() => fallbackChain(loose(env())), /fallbackChain\(\) needs an array of at least one source/);
    refused(() => fallbackChain([]), /fallbackChain\(\) needs an array of at least one source/);
    refused(() => fallbackChain(loose([env(), {}])), /fallbackChain\(\): sources\[1\] is not a source/);
    refused(() => fallbackChain([env()], loose({ onErrors: false })), /fallbackChain\(\): unknown option "onErrors"/);
    // the documented options are accepted
    assert.equal(env({ env: {}, prefix: 'APP_' }).kind, 'env');
    assert.equal(dotenv({ path: '.env', prefix: 'APP_', watch: false }).kind, 'dotenv');
    assert.equal(fileSource({ dir: '/var/secrets', fileName: (n) => n.toLowerCase(), rescanMs: 0 }).kind, 'file');
    assert.equal(localStore({ dir: '/tmp/x', masterKey: new Uint8Array(32), create: false, version: 'latest' }).kind, 'local-store');
    assert.equal(fallbackChain([memorySource({ values: {} }), env()], { onError: false, notFoundFallsThrough: true }).kind, 'fallback(memory>env)');
  });
});
