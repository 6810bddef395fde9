/** `keyshift emulator`: runs in the foreground, serves the real client, stops on the signal. */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import type { CliIo } from '../../src/cli/_command.ts';
import { main } from '../../src/cli/main.ts';
import { startEmulator } from '../../src/emulator/index.ts';

function io(env: NodeJS.ProcessEnv, cwd: string, signal: AbortSignal) {
  let stdout = '';
  let stderr = '';
  let onOut: () => void = () => {};
  const cli: CliIo = {
    stdin: new PassThrough(),
    stdout: {
      write: (chunk: string | Uint8Array) => {
        stdout += Buffer.from(chunk).toString('utf8');
        onOut();
        return true;
      },
    },
    stderr: { write: (chunk: string) => (stderr += chunk) },
    env,
    cwd,
    signal,
  };
  const printed = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve) => {
      onOut = () => {
        const m = pattern.exec(stdout);
        if (m) resolve(m);
      };
      onOut();
    });
  return { cli, printed, out: () => stdout, err: () => stderr };
}

describe('CLI: keyshift emulator', () => {
  it('serves the official client on the port it prints, over --store, until the signal', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'ks-cli-emulator-'));
    const env = { KEYSHIFT_MASTER_KEY: randomBytes(32).toString('base64') };
    const stop = new AbortController();
    const t = io(env, cwd, stop.signal);
    const running = main(['emulator', '--port', '0', '--store', 'store', '--project', 'dev'], t.cli);
    const [, port] = await t.printed(/on 127\.0\.0\.1:(\d+)/);
    const client = new SecretManagerServiceClient({
      apiEndpoint: '127.0.0.1',
      port: Number(port),
      sslCreds: credentials.createInsecure(),
      universeDomain: 'googleapis.com',
    });
    try {
      await client.createSecret({ parent: 'projects/dev', secretId: 'CLI_SECRET', secret: {} });
      await client.addSecretVersion({ parent: 'projects/dev/secrets/CLI_SECRET', payload: { data: Buffer.from('fake') } });
      const [got] = await client.accessSecretVersion({ name: 'projects/dev/secrets/CLI_SECRET/versions/latest' });
      assert.equal(got.name, 'projects/dev/secrets/CLI_SECRET/versions/1');
      const other = client.getSecret({ name: 'projects/elsewhere/secrets/CLI_SECRET' });
      await assert.rejects(other, { code: 7 }); // --project: other projects are PERMISSION_DENIED
    } finally {
      await client.close();
    }
    stop.abort();
    assert.equal(await running, 0);
    assert.match(t.out(), /stopped/);
    assert.ok(!t.out().includes('fake'));
    await rm(cwd, { recursive: true, force: true });
  });

  it('refuses a bad --port or --push-url with a usage error (exit 2)', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'ks-cli-emulator-'));
    for (const args of [['--port', '99999'], ['--port', 'x'], ['--push-url', 'ftp://x'], ['--push-url', 'nope']]) {
      const t = io({}, cwd, new AbortController().signal);
      assert.equal(await main(['emulator', ...args], t.cli), 2, args.join(' '));
      assert.match(t.err(), /usage/);
    }
    await rm(cwd, { recursive: true, force: true });
  });

  it('refuses a --project no resource name can carry (exit 2) before opening the store, instead of serving an emulator that refuses every call', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'ks-cli-emulator-'));
    const t = io({}, cwd, new AbortController().signal);
    assert.equal(await main(['emulator', '--port', '0', '--store', 'store', '--project', 'bad_project!'], t.cli), 2);
    assert.match(t.err(), /^keyshift: usage: --project must be a Google Cloud project id or number\n/);
    assert.ok(!existsSync(join(cwd, 'store')), 'no store was created');
    await assert.rejects(startEmulator({ project: 'projects/dev' }), { code: 'KS_ERR_INVALID_DECLARATION' });
    await rm(cwd, { recursive: true, force: true });
  });
});
