import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliIo } from '../../src/cli/_command.ts';
import { main } from '../../src/cli/main.ts';
import { type ProcessRun, runProcess } from '../_process.ts';

export const BIN = fileURLToPath(new URL('../../bin/keyshift.mjs', import.meta.url));

export type CliRun = ProcessRun;

/** Runs `keyshift ...argv` in-process with a given stdin, env and cwd. */
export async function runInProcess(
  argv: readonly string[],
  options: { stdin?: string | Buffer; tty?: boolean; env: NodeJS.ProcessEnv; cwd: string },
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]) as Readable & {
    isTTY?: boolean;
  };
  if (options.tty) stdin.isTTY = true;
  const io: CliIo = {
    stdin,
    stdout: {
      write: (chunk: string | Uint8Array) => {
        stdout += Buffer.from(chunk).toString('utf8');
        return true;
      },
    },
    stderr: {
      write: (chunk: string) => {
        stderr += chunk;
        return true;
      },
    },
    env: options.env,
    cwd: options.cwd,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** Runs bin/keyshift.mjs as a real process. */
export function runBin(
  argv: readonly string[],
  options: { stdin?: string; env: NodeJS.ProcessEnv; cwd: string },
): Promise<CliRun> {
  return runProcess(process.execPath, [BIN, ...argv], { cwd: options.cwd, env: options.env, stdin: options.stdin ?? '' }).done;
}
