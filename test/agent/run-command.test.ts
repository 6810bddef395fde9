import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../_process.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function put(dir: string, name: string, value: string): Promise<void> {
  await writeFile(join(dir, `.${name}.tmp`), value);
  await rename(join(dir, `.${name}.tmp`), join(dir, name));
}

async function setup(): Promise<{ root: string; source: string; config: string }> {
  const root = await mkdtemp(join(tmpdir(), 'keyshift-run-'));
  dirs.push(root);
  const source = join(root, 'source');
  await (await import('node:fs/promises')).mkdir(source);
  await put(source, 'API_KEY', 'key-one');
  await put(source, 'WALLET_PRIVATE_KEY', 'wallet-static');
  const config = join(root, 'agent.json');
  await writeFile(
    config,
    JSON.stringify({
      source: { kind: 'file', dir: 'source' },
      entries: { API_KEY: { type: 'string', category: 'api-key', deliver: ['env'] }, WALLET_PRIVATE_KEY: { type: 'string', static: true, deliver: ['env'] } },
    }),
  );
  return { root, source, config };
}

function keyshift(args: string[]) {
  return runProcess(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, NODE_OPTIONS: '' } });
}

async function waitFor(read: () => string, pattern: RegExp): Promise<void> {
  while (!pattern.test(read())) await new Promise((r) => setTimeout(r, 20));
}

// The child: prints what it got, answers SIGHUP, exits 0 on SIGTERM.
// It prints "start" only once its handlers are in place (a signal before would kill it).
const START = "console.log('start key=' + (process.env.API_KEY ?? 'unset') + ' wallet=' + (process.env.WALLET_PRIVATE_KEY === undefined ? 'unset' : 'set'));";
const CHILD = `
process.on('SIGHUP', () => console.log('got SIGHUP'));
process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });
setInterval(() => {}, 1000);
${START}
`;

describe('keyshift run', () => {
  it('starts the command with the static entries only, and exits with its exit code', async () => {
    const { config } = await setup();
    const run = await keyshift(['run', '--config', config, '--', process.execPath, '-e', `${START} process.exit(7);`]).done;
    assert.equal(run.code, 7, run.stderr);
    assert.match(run.stdout, /start key=unset wallet=set/);
    assert.doesNotMatch(run.stdout + run.stderr, /wallet-static|key-one/);
  });

  it('with --dynamic: restarts the command with the new value when it changes, forwards SIGHUP and SIGTERM, exits with the code', async () => {
    const { source, config } = await setup();
    const proc = keyshift(['run', '--config', config, '--dynamic', '--', process.execPath, '-e', CHILD]);
    await waitFor(proc.stdout, /start key=key-one wallet=set/);
    proc.child.kill('SIGHUP');
    await waitFor(proc.stdout, /got SIGHUP/);
    await put(source, 'API_KEY', 'key-two');
    await waitFor(proc.stdout, /start key=key-two/);
    assert.match(proc.stdout(), /got SIGTERM\n(?:.*\n)*start key=key-two/, 'the old child was stopped with SIGTERM before the new one started');
    proc.child.kill('SIGTERM');
    const run = await proc.done;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.match(/start key=/g)?.length, 2);
    assert.match(run.stderr, /API_KEY changed: restarting the command/);
  });

  it('refuses to start without a command, naming the usage', async () => {
    const { config } = await setup();
    const run = await keyshift(['run', '--config', config]).done;
    assert.equal(run.code, 2);
    assert.match(run.stderr, /give the command to run after --/);
  });
});
