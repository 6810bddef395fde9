/** The shape of every `keyshift` command: a plain object, callable in-process by tests. */

/** Where a command reads and writes: the real process, or a test's buffers. */
export interface CliIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: { write(chunk: string | Uint8Array): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown };
  /** Read instead of process.env (KEYSHIFT_STORE_DIR, KEYSHIFT_MASTER_KEY...). */
  env: NodeJS.ProcessEnv;
  /** Relative paths (--store) resolve against this. */
  cwd: string;
  /** Aborted on SIGINT/SIGTERM (or by a test): long-running commands stop and resolve. */
  signal?: AbortSignal;
}

export interface Command {
  /** The word after `keyshift`. */
  name: string;
  /** One line for `keyshift --help`. */
  summary: string;
  /** The usage line(s) for `keyshift NAME --help` and usage errors, starting with `keyshift NAME`. */
  usage: string;
  /**
   * Runs with the arguments after the command name; resolves the exit code. May throw:
   * a UsageError exits 2, a KeyshiftError is printed as `keyshift: CODE: message` and exits
   * 3 when it is KS_ERR_SOURCE_NOT_FOUND, 1 otherwise.
   */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Exit codes scripts can rely on (docs/cli.md). */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
} as const;

/** Identity, for inference and a single place to find every command: `export const put = defineCommand({...})`. */
export function defineCommand(command: Command): Command {
  return command;
}

/** The real process's streams, environment and working directory. */
export function processIo(signal?: AbortSignal): CliIo {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    ...(signal === undefined ? {} : { signal }),
  };
}
