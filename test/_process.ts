// Runs a child process to its exit and keeps what it printed: the one place the tests
// spawn a command and collect stdout and stderr.
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningProcess {
  readonly child: ChildProcess;
  /** What it printed on stdout so far. */
  stdout(): string;
  /** Resolves when it exits (or rejects when it could not start). */
  readonly done: Promise<ProcessRun>;
}

/**
 * Spawns `command`; `stdin`, when given, is written and ended (otherwise stdin is
 * ignored). Other spawn options (cwd, env, uid...) pass through.
 */
export function runProcess(command: string, args: readonly string[], options: SpawnOptions & { stdin?: string } = {}): RunningProcess {
  const { stdin, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<ProcessRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  if (stdin !== undefined) child.stdin?.end(stdin);
  return { child, stdout: () => stdout, done };
}
