/**
 * Runs the CLI in the test process for shell scripts: a unix socket that takes one
 * request per connection from test/_cli-relay-client.mjs (argv, env, cwd, stdin), runs
 * the CLI's main() on it in-process (test/cli/_run.ts) and answers its exit code, stdout
 * and stderr. A shell then calls `keyshift` as a command (pipes, `$(...)`, `||` work as
 * with the real binary) without paying a Node + tsx start and the cloud clients' imports
 * per command. Requests run concurrently, as the processes of a pipeline do.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInProcess } from './cli/_run.ts';

const CLIENT = fileURLToPath(new URL('./_cli-relay-client.mjs', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/keyshift.mjs', import.meta.url));

export interface CliRelay {
  /** Set in the shell's environment: where the client finds the relay. */
  readonly env: { KEYSHIFT_CLI_RELAY: string };
  /** Commands run through the relay so far. */
  readonly commands: string[][];
  close(): Promise<void>;
}

/**
 * Writes `dir/keyshift` (a shell wrapper: `keyshift serve`, a long-lived server the script
 * backgrounds and kills by its pid, runs as the real bin/keyshift.mjs process; every other
 * command goes through the relay) and starts the relay on `dir/relay.sock`.
 */
export async function startCliRelay(dir: string): Promise<CliRelay> {
  const socketPath = join(dir, 'relay.sock');
  writeFileSync(
    join(dir, 'keyshift'),
    `#!/bin/sh\nif [ "$1" = serve ]; then exec "${process.execPath}" "${BIN}" "$@"; fi\nexec "${process.execPath}" "${CLIENT}" "$@"\n`,
  );
  chmodSync(join(dir, 'keyshift'), 0o755);
  const commands: string[][] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('end', () => {
      void (async () => {
        let answer: { code: number; stdout: string; stderr: string };
        try {
          const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { argv: string[]; env: NodeJS.ProcessEnv; cwd: string; stdin: string };
          commands.push(request.argv);
          const run = await runInProcess(request.argv, { env: request.env, cwd: request.cwd, stdin: Buffer.from(request.stdin, 'base64') });
          answer = { code: run.code ?? 1, stdout: Buffer.from(run.stdout).toString('base64'), stderr: run.stderr };
        } catch (error) {
          answer = { code: 70, stdout: '', stderr: `keyshift relay: ${error instanceof Error ? error.stack : String(error)}\n` };
        }
        socket.end(JSON.stringify(answer));
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    env: { KEYSHIFT_CLI_RELAY: socketPath },
    commands,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
