/**
 * The plan's "store": the loopback Secret Manager emulator (real Google client), the
 * loopback AWS JSON 1.1 endpoint (real AWS SDK) or the in-memory source, behind one
 * small interface with the faults of plan section A. Values are fake.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../src/emulator/index.ts';
import { ErrorCodes } from '../../src/errors.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { localStore } from '../../src/sources/local-store.ts';
import { memorySource } from '../../src/sources/memory.ts';
import { startAwsSecretsManagerServer } from '../../src/testing/aws-secrets-manager-server.ts';
import type { Source } from '../../src/types.ts';

// The AWS SDK warns once per process about Node 20's end of support: noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export type Fault = 'unavailable' | 'hang' | 'deadline' | 'throttled' | 'denied';

export interface FaultyStore {
  readonly kind: 'memory' | 'gcp' | 'aws';
  /** A fresh source over this store (sources do I/O only; one per manager). */
  source(): Source;
  /** Adds a new version (creating the secret on first use). */
  set(name: string, value: string | Uint8Array): Promise<void>;
  /** Makes the secret not found (deleted, or answered as missing). */
  remove(name: string): Promise<void>;
  /** Every call fails with `fault` until clear(). */
  fail(fault: Fault, options?: { retryAfterSeconds?: number }): void;
  clear(): void;
  /** Store read calls received so far (faulted ones included). */
  calls(): number;
  close(): Promise<void>;
}

export async function memoryStore(): Promise<FaultyStore> {
  const mem = memorySource();
  const codes = {
    unavailable: ErrorCodes.SOURCE_UNAVAILABLE,
    deadline: ErrorCodes.SOURCE_TIMEOUT,
    throttled: ErrorCodes.SOURCE_THROTTLED,
    denied: ErrorCodes.SOURCE_DENIED,
  } as const;
  return {
    kind: 'memory',
    source: () => mem,
    async set(name, value) {
      mem.set(name, value);
    },
    async remove(name) {
      mem.delete(name);
    },
    fail(fault, options = {}) {
      if (fault === 'hang') mem.fail('hang');
      else {
        const retry = options.retryAfterSeconds === undefined ? {} : { retryAfterMs: options.retryAfterSeconds * 1000 };
        mem.fail({ code: codes[fault], ...retry });
      }
    },
    clear: () => mem.fail(undefined),
    calls: () => mem.totalCalls,
    async close() {},
  };
}

/** A fresh local store (a temp dir) and localStore() sources over it. It injects no faults. */
export async function localStoreFixture() {
  const dir = await mkdtemp(join(tmpdir(), 'ks-hardening-local-'));
  const masterKey = randomBytes(32);
  const store = await openLocalStore({ dir, masterKey });
  const sources: Source[] = [];
  return {
    dir,
    masterKey,
    store,
    source(): Source {
      const source = localStore({ dir, masterKey });
      sources.push(source);
      return source;
    },
    async close() {
      for (const source of sources) await source.close?.();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The emulator over a fresh local store, and gcpSecretManager() sources with the real client. */
export async function gcpStore(options: { maxValueBytes?: number } = {}): Promise<FaultyStore & { readonly emulator: Awaited<ReturnType<typeof startEmulator>> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ks-hardening-gcp-'));
  const store = await openLocalStore({ dir, masterKey: randomBytes(32), ...options });
  const emulator = await startEmulator({ store });
  const sources: Array<{ close(): Promise<void> }> = [];
  const codes = { unavailable: 'UNAVAILABLE', deadline: 'DEADLINE_EXCEEDED', throttled: 'RESOURCE_EXHAUSTED', denied: 'PERMISSION_DENIED' } as const;
  return {
    kind: 'gcp',
    emulator,
    source() {
      const source = gcpSecretManager({ project: 'hardening', clientOptions: emulator.clientOptions() });
      sources.push(source);
      return source;
    },
    async set(name, value) {
      await store.put(name, value);
    },
    async remove(name) {
      await store.deleteSecret(name);
    },
    fail(fault) {
      emulator.faults.inject('AccessSecretVersion', fault === 'hang' ? { hang: true } : { code: codes[fault] });
    },
    clear: () => emulator.faults.clear(),
    calls: () => emulator.callCount('AccessSecretVersion'),
    async close() {
      for (const source of sources) await source.close();
      await emulator.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The loopback AWS endpoint and awsSecretsManager() sources with the real SDK. */
export async function awsStore(): Promise<FaultyStore> {
  const server = await startAwsSecretsManagerServer();
  const sources: Array<{ close?(): Promise<void> | void }> = [];
  const credentials = { accessKeyId: 'AKIDHARDENINGFAKE', secretAccessKey: 'hardening-fake-secret-key' };
  let dispose: (() => void) | undefined;
  const created = new Set<string>();
  return {
    kind: 'aws',
    source() {
      const source = awsSecretsManager({ clientConfig: { endpoint: server.endpoint, region: server.region, credentials } });
      sources.push(source);
      return source;
    },
    async set(name, value) {
      const field = typeof value === 'string' ? { SecretString: value } : { SecretBinary: Buffer.from(value).toString('base64') };
      if (created.has(name)) server.direct('PutSecretValue', { SecretId: name, ...field });
      else server.direct('CreateSecret', { Name: name, ...field });
      created.add(name);
    },
    async remove() {
      dispose?.();
      dispose = server.inject({ operation: 'GetSecretValue', error: 'ResourceNotFoundException' });
    },
    fail(fault, options = {}) {
      dispose?.();
      const effect =
        fault === 'hang'
          ? { hang: true as const }
          : fault === 'unavailable'
            ? { error: 'ServiceUnavailable', status: 503 }
            : fault === 'deadline'
              ? { error: 'RequestTimeout', status: 408 }
              : fault === 'throttled'
                ? { error: 'ThrottlingException', ...(options.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: options.retryAfterSeconds }) }
                : { error: 'AccessDeniedException' };
      dispose = server.inject(effect); // GetSecretValue and the startup BatchGetSecretValue alike
    },
    clear() {
      dispose?.();
      dispose = undefined;
      server.clearFaults();
    },
    calls: () => server.calls.GetSecretValue + server.calls.BatchGetSecretValue,
    async close() {
      for (const source of sources) await source.close?.();
      await server.close();
    },
  };
}

/** A source wrapper that counts calls in flight and when each started (for single-flight and schedule checks). */
export function tracked(inner: Source, now: () => number): Source & { readonly inFlight: number; readonly peak: number; readonly starts: ReadonlyMap<string, number[]> } {
  let inFlight = 0;
  const starts = new Map<string, number[]>();
  const perName = new Map<string, number>();
  let perNamePeak = 0;
  const wrapper = {
    kind: inner.kind,
    async get(name: string, options: Parameters<Source['get']>[1]) {
      inFlight++;
      perName.set(name, (perName.get(name) ?? 0) + 1);
      perNamePeak = Math.max(perNamePeak, perName.get(name) ?? 0);
      starts.set(name, [...(starts.get(name) ?? []), now()]);
      try {
        return await inner.get(name, options);
      } finally {
        inFlight--;
        perName.set(name, (perName.get(name) ?? 1) - 1);
      }
    },
    ...(inner.watch ? { watch: inner.watch.bind(inner) } : {}),
    ...(inner.close ? { close: inner.close.bind(inner) } : {}),
    get inFlight() {
      return inFlight;
    },
    /** Most calls of one name in flight at once. */
    get peak() {
      return perNamePeak;
    },
    get starts() {
      return starts;
    },
  };
  return wrapper;
}
