import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { type LocalStore, generateMasterKey, openLocalStore } from '../../src/local-store/index.ts';
import { type ProcessRun, runProcess } from '../_process.ts';

export const CHILD_SCRIPT = fileURLToPath(new URL('./_child.ts', import.meta.url));

/** A fresh temp directory with a store path inside it, a random master key, and cleanup. */
export async function tempStore(): Promise<{ root: string; dir: string; key: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'keyshift-store-'));
  return {
    root,
    dir: join(root, 'store'),
    key: generateMasterKey(),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export type TempStore = Awaited<ReturnType<typeof tempStore>>;

/** One store for the enclosing describe(): opened before its tests, closed and removed after. */
export function useStore(): { env: TempStore; store: LocalStore } {
  const context = {} as { env: TempStore; store: LocalStore };
  before(async () => {
    context.env = await tempStore();
    context.store = await openLocalStore({ dir: context.env.dir, masterKey: context.env.key });
  });
  after(async () => {
    await context.store.close();
    await context.env.cleanup();
  });
  return context;
}

export type ChildRun = ProcessRun;

/** Runs test/local-store/_child.ts (through tsx) to completion. */
export function runChild(args: readonly string[], options: SpawnOptions = {}): Promise<ChildRun> {
  return runProcess(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, ...args], options).done;
}

/** A long-running child whose stdout lines are JSON messages; stdin's end tells it to stop. */
export function startChild(args: readonly string[], env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  next: (predicate: (message: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>;
  stop: () => Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env,
  });
  const seen: Record<string, unknown>[] = [];
  const waiters: { predicate: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] =
    [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as Record<string, unknown>;
    seen.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    child,
    next: (predicate) => {
      const found = seen.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    stop: () => {
      child.stdin?.end();
      return exited;
    },
  };
}

/** Milliseconds on a clock shared by processes of one machine. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}
