// A second (third...) process on one local store, driven by the tests. Prints JSON lines.
// The master key comes from KEYSHIFT_MASTER_KEY. Never prints a value.
import { createHook } from 'node:async_hooks';
import { KeyshiftError } from '../../src/errors.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { holdOpen } from '../_hold-open.ts';
import { sharedNow } from './_helpers.ts';

const [command, dir, ...rest] = process.argv.slice(2);
const print = (message: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(message)}\n`);
};

/** Resolves when the parent closes our stdin. */
function stdinEnded(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.resume();
  });
}

async function puts(name: string, count: number, tag: string): Promise<void> {
  const store = await openLocalStore({ dir });
  const versions: number[] = [];
  for (let i = 0; i < count; i++) versions.push((await store.put(name, `fake-${tag}-${i}`)).version);
  await store.close();
  print({ versions });
}

async function watchAndRead(name: string): Promise<void> {
  const store = await openLocalStore({ dir });
  const reads: Promise<void>[] = [];
  const dispose = store.watch((event) => {
    if (event.name !== name || event.type !== 'version-added') return;
    const at = sharedNow();
    reads.push(
      store.access(name).then((result) => print({ event: event.type, version: event.version, read: result.version, at })),
    );
  });
  print({ ready: true });
  await stdinEnded();
  dispose();
  await Promise.all(reads);
  await store.close();
}

async function tryOpen(): Promise<void> {
  try {
    const store = await openLocalStore({ dir });
    await store.close();
    print({ ok: true });
  } catch (error) {
    if (!(error instanceof KeyshiftError)) throw error;
    print({ code: error.code, message: error.message });
  }
}

/** Opens, watches, writes, disposes, closes: reports any timer, watcher or file handle left alive. */
async function resources(): Promise<void> {
  const alive = new Map<number, string>();
  // File handles are left out: their async resource is destroyed by GC, not by close().
  const tracked = new Set(['Timeout', 'FSEVENTWRAP', 'STATWATCHER']);
  const hook = createHook({
    init(id, type) {
      if (tracked.has(type)) alive.set(id, type);
    },
    destroy(id) {
      alive.delete(id);
    },
  }).enable();
  const store = await openLocalStore({ dir });
  const seen = new Promise<void>((resolve) => {
    const dispose = store.watch(() => {
      dispose();
      resolve();
    });
  });
  await store.put('HANDLE_CHECK', 'fake-handle-check');
  await holdOpen(seen);
  const second = store.watch(() => undefined);
  second();
  await store.close();
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  hook.disable();
  print({ alive: [...alive.values()] });
}

switch (command) {
  case 'puts':
    await puts(rest[0]!, Number(rest[1]), rest[2]!);
    break;
  case 'watch':
    await watchAndRead(rest[0]!);
    break;
  case 'open':
    await tryOpen();
    break;
  case 'resources':
    await resources();
    break;
  default:
    throw new Error(`unknown child command ${command}`);
}
