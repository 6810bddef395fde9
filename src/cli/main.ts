import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type CliIo, type Command, ExitCode, processIo } from './_command.ts';
import { reportError } from './_errors.ts';
import { commands } from './commands/index.ts';

function packageVersion(): string {
  // src/cli/main.ts and dist/cli/main.js are both two levels below package.json.
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

function helpText(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'keyshift: hot-reloadable secrets for Node.js services',
    '',
    'usage: keyshift COMMAND [arguments] [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'store commands take:',
    '  --store DIR|gcp://PROJECT|aws://REGION   the store (default: the directory $KEYSHIFT_STORE_DIR, else .keyshift/store)',
    '  --endpoint E  the endpoint of a gcp:// (HOST:PORT, an emulator) or aws:// (URL) store',
    '  --json        machine-readable output on stdout',
    '  -h, --help    the command\'s usage',
    '',
    'the master key comes from $KEYSHIFT_MASTER_KEY (32 bytes, base64), else DIR/master.key',
    'exit codes: 0 ok, 1 failure, 2 usage error, 3 not found',
    'keyshift COMMAND --help shows the usage of one command',
    '',
  ].join('\n');
}

function find(name: string): Command | undefined {
  return commands.find((c) => c.name === name);
}

/** Dispatches `argv` (the arguments after `keyshift`) and resolves the exit code. Never throws. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.stderr.write(helpText());
    return ExitCode.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = args[0] === undefined ? undefined : find(args[0]);
    io.stdout.write(topic === undefined ? helpText() : `usage: ${topic.usage}\n${topic.summary}\n`);
    return ExitCode.OK;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${packageVersion()}\n`);
    return ExitCode.OK;
  }
  const command = find(name);
  if (command === undefined) {
    // never named: a value pasted in first place must not reach the terminal's scrollback or a CI log
    io.stderr.write('keyshift: usage: the first argument is not a command; keyshift --help lists them\n');
    return ExitCode.USAGE;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`usage: ${command.usage}\n${command.summary}\n`);
    return ExitCode.OK;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    return reportError(error, io, command, args);
  }
}

/**
 * Runs as the `keyshift` process: the first SIGINT/SIGTERM aborts io.signal (long-running
 * commands stop cleanly), a second one exits at once. Sets process.exitCode.
 */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    controller.abort(new Error(`received ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    process.exitCode = await main(argv, processIo(controller.signal));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// `tsx src/cli/main.ts ...` (npm run keyshift): run when executed directly.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli();
