/**
 * One instance process of the fleet tests (./_fleet-instance.ts): its JSON lines on stdout
 * are collected, and `wait(check)` resolves with the first line that passes `check`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Instance {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  wait(check: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
}

/** Starts ./_fleet-instance.ts with `env`; a `wait` rejects (naming what, with the child's stderr) after `waitMs`. */
export function startInstance(env: Record<string, string>, waitMs: number): Instance {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./_fleet-instance.ts', import.meta.url).pathname], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      return;
    }
    for (const wake of [...waiters]) wake();
  });
  const wait = (check: (line: Record<string, unknown>) => boolean, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      // this timer also holds the event loop open while the test waits
      const timer = setTimeout(() => {
        waiters.delete(look);
        reject(new Error(`instance ${child.pid}: timed out waiting for ${what}; stderr: ${stderr.slice(-1500)}`));
      }, waitMs);
      const look = (): void => {
        const hit = lines.find(check);
        if (!hit) return;
        clearTimeout(timer);
        waiters.delete(look);
        resolve(hit);
      };
      waiters.add(look);
      look();
    });
  return { child, lines, wait };
}
