import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

export interface ChildSupervisorOptions {
  command: string;
  args: readonly string[];
  /** The environment of each start (read again at every restart, so it carries new values). */
  env: () => NodeJS.ProcessEnv;
  /** After SIGTERM at a restart or a stop, SIGKILL after this long. Default 10,000 ms. */
  stopGraceMs?: number;
  /** stdio of the child. Default 'inherit'. */
  stdio?: 'inherit' | 'pipe' | 'ignore';
  /** Told about each start (pid) and each restart. */
  onStart?: (child: ChildProcess, restart: boolean) => void;
}

/** The exit code a shell gives a process: its code, or 128 + the signal's number. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const number = signal === null ? undefined : constants.signals[signal];
  return number === undefined ? 1 : 128 + number;
}

/**
 * Runs one child at a time for `keyshift run`: starts it, forwards signals to it,
 * restarts it on demand (SIGTERM, wait, SIGKILL after the grace, start again with the
 * current environment), and resolves `exited` with its exit code when it exits on its
 * own or after stop(): never while a restart replaces it.
 */
export class ChildSupervisor {
  readonly exited: Promise<number>;
  readonly #options: ChildSupervisorOptions;
  #child: ChildProcess | undefined;
  #restarting: Promise<void> | undefined;
  #stopping = false;
  #resolveExit!: (code: number) => void;
  #rejectExit!: (error: KeyshiftError) => void;

  constructor(options: ChildSupervisorOptions) {
    this.#options = options;
    this.exited = new Promise((resolve, reject) => {
      this.#resolveExit = resolve;
      this.#rejectExit = reject;
    });
    this.exited.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(restart = false): void {
    const child = spawn(this.#options.command, [...this.#options.args], { env: this.#options.env(), stdio: this.#options.stdio ?? 'inherit' });
    this.#child = child;
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (this.#child !== child) return;
      this.#rejectExit(new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `cannot start ${JSON.stringify(this.#options.command)} (${error.code ?? 'unknown'})`, { cause: error }));
    });
    child.once('exit', (code, signal) => {
      if (this.#child !== child || this.#restarting) return;
      this.#resolveExit(exitCodeOf(code, signal));
    });
    this.#options.onStart?.(child, restart);
  }

  /** Sends `signal` to the running child. */
  signal(signal: NodeJS.Signals): void {
    this.#child?.kill(signal);
  }

  /** Replaces the child with a new one; calls made during a restart join it. */
  restart(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    this.#restarting ??= this.#stopChild().then(() => {
      this.#restarting = undefined;
      if (!this.#stopping) this.start(true);
    });
    return this.#restarting;
  }

  /** Stops the child (SIGTERM, then SIGKILL after the grace); `exited` resolves with its code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
    this.#stopping = true;
    await this.#restarting;
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#options.stopGraceMs ?? 10_000);
      child.once('exit', () => clearTimeout(timer));
    }
    return this.exited;
  }

  #stopChild(): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), this.#options.stopGraceMs ?? 10_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
