import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { commands } from '../../src/cli/commands/index.ts';
import { generateMasterKey } from '../../src/local-store/index.ts';
import { type CliRun, runBin, runInProcess } from './_run.ts';

describe('CLI: keyshift store commands', () => {
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  const canary = `fake-canary-${randomBytes(12).toString('hex')}`;
  const run = (argv: string[], stdin?: string | Buffer, extra: { tty?: boolean } = {}): Promise<CliRun> =>
    runInProcess(argv, { env, cwd, ...(stdin === undefined ? {} : { stdin }), ...extra });
  const json = <T>(result: CliRun): T => {
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'keyshift-cli-'));
    // A hermetic environment: no inherited store dir or key; the key is the test's.
    env = { PATH: process.env.PATH, HOME: process.env.HOME, KEYSHIFT_MASTER_KEY: generateMasterKey() };
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  describe('as a real process (bin/keyshift.mjs, from the source checkout)', () => {
    it('puts from stdin and gets the value back only with --reveal', async () => {
      const childEnv = { ...env, NODE_OPTIONS: '' }; // bin registers tsx itself
      const put = await runBin(['put', 'BIN_SECRET', '--store', 'bin-store'], { stdin: `${canary}\n`, env: childEnv, cwd });
      assert.deepEqual([put.code, put.stdout, put.stderr], [0, 'BIN_SECRET: version 1 added\n', '']);
      const hidden = await runBin(['get', 'BIN_SECRET', '--store', 'bin-store'], { env: childEnv, cwd });
      assert.equal(hidden.code, 0, hidden.stderr);
      assert.ok(!hidden.stdout.includes(canary) && !hidden.stderr.includes(canary), 'get without --reveal printed the value');
      assert.match(hidden.stdout, /BIN_SECRET version 1: \[redacted\]/);
      const shown = await runBin(['get', 'BIN_SECRET', '--reveal', '--store', 'bin-store'], { env: childEnv, cwd });
      assert.deepEqual([shown.code, shown.stdout], [0, `${canary}\n`], 'exactly the bytes put (the core trims on read)');
    });
  });

  describe('in-process', () => {
    it('lists every command in --help with its summary, and exits 2 without a command', async () => {
      const help = await run(['--help']);
      assert.equal(help.code, 0);
      for (const command of commands) assert.match(help.stdout, new RegExp(`\\b${command.name}\\b.*${command.summary.slice(0, 10)}`));
      assert.match(help.stdout, /exit codes: 0 ok, 1 failure, 2 usage error, 3 not found/);
      // the options of docs/cli.md#options
      for (const option of ['--store DIR|gcp://PROJECT|aws://REGION', '--endpoint E', '--json', '-h, --help']) assert.ok(help.stdout.includes(option), option);
      assert.equal((await run([])).code, 2);
      const usage = await run(['versions', '--help']);
      assert.deepEqual([usage.code, usage.stdout.split('\n')[0]], [0, 'usage: keyshift versions NAME [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]']);
    });

    it('adds versions, shows them redacted, pins a version, lists the store', async () => {
      assert.equal(json<{ version: number }>(await run(['put', 'API_KEY', '--json'], `${canary}-1`)).version, 1);
      assert.equal((await run(['put', 'API_KEY'], `${canary}-2\n`)).stdout, 'API_KEY: version 2 added\n');
      const got = json<Record<string, unknown>>(await run(['get', 'API_KEY', '--json']));
      assert.deepEqual(got, { name: 'API_KEY', version: 2, value: '[redacted]' });
      const pinned = await run(['get', 'API_KEY', '--version', '1', '--reveal']);
      assert.equal(pinned.stdout, `${canary}-1`);
      const revealed = json<Record<string, unknown>>(await run(['get', 'API_KEY', '--json', '--reveal']));
      assert.deepEqual(revealed, { name: 'API_KEY', version: 2, value: `${canary}-2\n` });
      const versions = json<{ version: number; state: string }[]>(await run(['versions', 'API_KEY', '--json']));
      assert.deepEqual(versions.map((v) => [v.version, v.state]), [[1, 'enabled'], [2, 'enabled']]);
      const table = await run(['versions', 'API_KEY']);
      assert.match(table.stdout, /^VERSION +STATE +CREATED\n1 +enabled +\S+\n2 +enabled +\S+\n$/);
      const listed = json<{ name: string; latest: number; versionCount: number }[]>(await run(['list', '--json']));
      assert.deepEqual(listed.map((s) => [s.name, s.latest, s.versionCount]), [['API_KEY', 2, 2]]);
      assert.match((await run(['list'])).stdout, /^NAME +LATEST +VERSIONS +CREATED\nAPI_KEY +2 +2 +\S+\n$/);
    });

    it('never prints the value without --reveal, in any command or output mode', async () => {
      const outputs = await Promise.all([
        run(['get', 'API_KEY']),
        run(['get', 'API_KEY', '--json']),
        run(['get', 'API_KEY', '--version', '1']),
        run(['versions', 'API_KEY', '--json']),
        run(['list', '--json']),
        run(['list']),
      ]);
      for (const output of outputs) {
        assert.equal(output.code, 0, output.stderr);
        assert.ok(!output.stdout.includes(canary) && !output.stderr.includes(canary));
      }
    });

    it('disables, enables and destroys versions, with exit 1 for a disabled read', async () => {
      assert.equal((await run(['disable', 'API_KEY', '1'])).stdout, 'API_KEY version 1: disabled\n');
      const disabled = await run(['get', 'API_KEY', '--version', '1']);
      assert.equal(disabled.code, 1);
      assert.equal(disabled.stderr, 'keyshift: KS_ERR_VERSION_DISABLED: secret NAME version V is disabled\n', 'arguments by their place');
      assert.equal(json<{ state: string }>(await run(['enable', 'API_KEY', '1', '--json'])).state, 'enabled');
      assert.equal(json<{ state: string }>(await run(['destroy', 'API_KEY', '1', '--json'])).state, 'destroyed');
      assert.equal((await run(['get', 'API_KEY', '--version', '1', '--reveal'])).code, 1);
      assert.equal((await run(['enable', 'API_KEY', '1'])).code, 1, 'a destroyed version cannot come back');
    });

    it('exits 3 for a missing secret, version or store, and lists an absent store as empty', async () => {
      const missing = await run(['get', 'NO_SUCH_SECRET']);
      assert.equal(missing.code, 3);
      assert.match(missing.stderr, /^keyshift: KS_ERR_SOURCE_NOT_FOUND: secret NAME not found in the local store \//);
      assert.ok(!missing.stderr.includes('NO_SUCH_SECRET'), 'an unknown name may be a pasted value');
      assert.equal((await run(['get', 'API_KEY', '--version', '99'])).code, 3);
      assert.equal((await run(['disable', 'API_KEY', '99'])).code, 3);
      assert.equal((await run(['versions', 'X', '--store', 'elsewhere'])).code, 3);
      const empty = await run(['list', '--store', 'elsewhere', '--json']);
      assert.deepEqual([empty.code, JSON.parse(empty.stdout)], [0, []]);
    });

    it('exits 2 for usage errors, never echoing an argument that may be a value', async () => {
      const cases: [string[], RegExp][] = [
        [['put', 'API_KEY', canary], /put takes 1 argument \(NAME\), got 2 \(the value is read from stdin/],
        [['get'], /get takes 1 argument/],
        [['disable', 'API_KEY', 'one'], /VERSION must be a positive integer/],
        [['get', 'API_KEY', '--nope'], /usage: argument 2 is not an option of get \(keyshift get --help lists them\)/],
        [['get', 'API_KEY', `--${canary}`], /argument 2 is not an option of get/],
        [['get', 'API_KEY', `--${canary}=${canary}`], /argument 2 is not an option of get/],
        [['frobnicate'], /the first argument is not a command; keyshift --help lists them/],
        [[canary], /the first argument is not a command/],
        [[canary.replace(/-/g, ' ')], /the first argument is not a command/],
        [['get', 'bad name!'], /KS_ERR_INVALID_DECLARATION: invalid secret name/],
        [['put', 'API_KEY', '--if-latest', 'x'], /--if-latest must be a version number/],
        // a store URL of another scheme is malformed, never a directory named `s3:`
        [['get', 'API_KEY', '--store', 's3://bucket'], /--store takes a directory, gcp:\/\/PROJECT or aws:\/\/REGION/],
        [['list', '--store', 'GCP://pgp-prod'], /--store takes a directory, gcp:\/\/PROJECT or aws:\/\/REGION/],
      ];
      for (const [argv, message] of cases) {
        const result = await run(argv, 'fake-unused');
        assert.equal(result.code, 2, `${argv.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, message);
        assert.match(result.stderr, /^keyshift: /);
        assert.ok(!result.stderr.includes(canary) && !result.stderr.includes(canary.replace(/-/g, ' ')));
        assert.ok(!result.stderr.includes('frobnicate') && !result.stderr.includes('nope'));
      }
    });

    it('never repeats an argument in an exit error: a NAME, an alias, an option value by their place; a store path as given', async () => {
      const cases: [string[], number, RegExp][] = [
        [['get', canary], 3, /^keyshift: KS_ERR_SOURCE_NOT_FOUND: secret NAME not found in the local store /],
        [['get', 'API_KEY', '--version', canary], 3, /^keyshift: KS_ERR_SOURCE_NOT_FOUND: secret NAME has no alias V in the local store /],
        [['get', 'API_KEY', `--version=${canary}`], 3, /secret NAME has no alias V/],
        [['get', canary.toUpperCase()], 3, /secret NAME not found/],
        [['versions', canary, '--store', 'elsewhere'], 3, /elsewhere/],
      ];
      for (const [argv, code, message] of cases) {
        const result = await run(argv);
        assert.equal(result.code, code, `${result.stderr}`);
        assert.match(result.stderr, message);
        assert.ok(!result.stderr.toLowerCase().includes(canary.toLowerCase().slice(0, 8)), 'no part of the argument');
      }
    });

    it('refuses an empty stdin, a lone newline and a terminal; stores the bytes as given', async () => {
      for (const [stdin, tty] of [['', false], ['\n', false], ['fake', true]] as const) {
        const result = await run(['put', 'TRIMMED'], stdin, { tty });
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, tty ? /refusing to read a secret from a terminal/ : /nothing to store/);
      }
      assert.equal((await run(['get', 'TRIMMED'])).code, 3, 'nothing was stored');
      for (const [stdin, stored] of [
        ['fake-a\n\n', 'fake-a\n\n'],
        ['fake-b\r\n', 'fake-b\r\n'],
        ['fake-c', 'fake-c'],
        [' fake-d \n', ' fake-d \n'],
      ]) {
        assert.equal((await run(['put', 'TRIMMED'], stdin)).code, 0);
        assert.equal((await run(['get', 'TRIMMED', '--reveal'])).stdout, stored);
      }
    });

    it('honours --if-latest (exit 1 on a conflict) and refuses a value over 64 KiB (exit 1)', async () => {
      assert.equal((await run(['put', 'GUARDED', '--if-latest', '0'], 'fake-g1')).code, 0);
      const conflict = await run(['put', 'GUARDED', '--if-latest', '0'], 'fake-g2');
      assert.equal(conflict.code, 1);
      assert.match(conflict.stderr, /^keyshift: KS_ERR_CONFLICT: .*expected latest version N, found 1/);
      const big = await run(['put', 'BIG'], Buffer.alloc(64 * 1024 + 10, 0x61));
      assert.equal(big.code, 1);
      assert.match(big.stderr, /KS_ERR_VALUE_TOO_LARGE: .*65536-byte limit/);
    });

    it('prints non-UTF-8 values as base64 in --json --reveal, and raw bytes with --reveal', async () => {
      assert.equal((await run(['put', 'BINARY'], Buffer.from([0xc3, 0x28, 0xff]))).code, 0);
      assert.deepEqual(json<Record<string, unknown>>(await run(['get', 'BINARY', '--json', '--reveal'])), {
        name: 'BINARY',
        version: 1,
        valueBase64: Buffer.from([0xc3, 0x28, 0xff]).toString('base64'),
      });
    });

    it('reports a wrong master key as KS_ERR_MASTER_KEY with exit 1', async () => {
      const wrong = await runInProcess(['get', 'API_KEY'], { env: { ...env, KEYSHIFT_MASTER_KEY: generateMasterKey() }, cwd });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /^keyshift: KS_ERR_MASTER_KEY: wrong master key/);
    });
  });
});
