import { spawn } from 'node:child_process';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

export interface ChangeNotifierOptions {
  /** Run after each swap (argv, no shell); KEYSHIFT_CHANGED (names) and KEYSHIFT_GENERATION are in its environment. */
  command?: readonly string[];
  /** POSTed after each swap with `{ generation, changed }`: names only, never values. */
  url?: string;
  /** A command or call taking longer than this is abandoned (reported). Default 10,000 ms. */
  timeoutMs?: number;
}

/** What one notification did. */
export type NotifyResult = { ok: true } | { ok: false; error: KeyshiftError };

function runCommand(argv: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<NotifyResult> {
  return new Promise((resolve) => {
    const [file, ...args] = argv as [string, ...string[]];
    const fail = (reason: string) =>
      resolve({ ok: false, error: new KeyshiftError(ErrorCodes.INTERNAL, `the notify command ${JSON.stringify(file)} ${reason}`) });
    const child = spawn(file, args, { env, stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
    child.once('error', (error) => fail(`could not start (${(error as NodeJS.ErrnoException).code ?? 'unknown'})`));
    child.once('exit', (code, signal) => {
      if (code === 0) resolve({ ok: true });
      else fail(signal ? `was killed by ${signal}` : `exited with ${code}`);
    });
  });
}

async function post(url: string, body: string, timeoutMs: number): Promise<NotifyResult> {
  try {
    const response = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (response.ok) return { ok: true };
    return { ok: false, error: new KeyshiftError(ErrorCodes.INTERNAL, `the notify URL answered ${response.status}`, { details: { status: response.status } }) };
  } catch (error) {
    const kind = error instanceof Error ? error.name : 'error';
    return { ok: false, error: new KeyshiftError(ErrorCodes.INTERNAL, `the notify URL could not be called (${kind})`) };
  }
}

/**
 * Tells the application that files changed: a command, an HTTP POST, or both. A failure
 * is a result to report, never a throw: the files are already in place.
 */
export function createChangeNotifier(options: ChangeNotifierOptions): (generation: number, changed: readonly string[]) => Promise<NotifyResult[]> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return async (generation, changed) => {
    const jobs: Promise<NotifyResult>[] = [];
    if (options.command) {
      const env = { ...process.env, KEYSHIFT_CHANGED: changed.join(','), KEYSHIFT_GENERATION: String(generation) };
      jobs.push(runCommand(options.command, env, timeoutMs));
    }
    if (options.url) jobs.push(post(options.url, JSON.stringify({ generation, changed }), timeoutMs));
    return Promise.all(jobs);
  };
}
