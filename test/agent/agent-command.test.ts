import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runInProcess } from '../cli/_run.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function agentWith(declaration: unknown, extra: string[] = []) {
  const dir = await mkdtemp(join(tmpdir(), 'keyshift-agent-cmd-'));
  dirs.push(dir);
  await writeFile(join(dir, 'agent.json'), JSON.stringify(declaration));
  return runInProcess(['agent', '--config', 'agent.json', ...extra], { env: {}, cwd: dir });
}

describe('keyshift agent (command)', () => {
  it('refuses to start on a dynamic *_PRIVATE_KEY: exit 1, KS_ERR_POLICY naming the entry', async () => {
    const run = await agentWith({ source: { kind: 'env' }, entries: { HOT_WALLET_PRIVATE_KEY: { type: 'string' } }, api: { socket: 'a.sock' } });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /^keyshift: KS_ERR_POLICY: entry HOT_WALLET_PRIVATE_KEY breaks policy rule "private-key-static"/);
    assert.equal(run.stdout, '', 'nothing started');
  });

  it('refuses to start on an unknown type: exit 2, KS_ERR_INVALID_DECLARATION naming the entry', async () => {
    const run = await agentWith({ source: { kind: 'env' }, entries: { FEE: { type: 'money' } }, api: { socket: 'a.sock' } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /KS_ERR_INVALID_DECLARATION: entry FEE: unknown type "money"/);
  });

  it('refuses to start with nothing to hand values over with', async () => {
    const run = await agentWith({ source: { kind: 'env' }, entries: { FEE: { type: 'decimal' } } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /give files and\/or api in the declaration, or --files DIR \/ --socket PATH/);
  });

  it('refuses --admin-port together with --admin-socket (exit 2) before anything starts', async () => {
    const run = await agentWith({ source: { kind: 'env' }, entries: { FEE: { type: 'decimal' } }, api: { socket: 'a.sock' } }, ['--admin-port', '0', '--admin-socket', 'admin.sock']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^keyshift: usage: give --admin-port or --admin-socket, not both\n/);
    assert.equal(run.stdout, '', 'nothing started');
  });

  it('a missing value at startup fails ready(): exit 3 with the error of the source, before anything is served', async () => {
    const run = await agentWith({ source: { kind: 'env', prefix: 'NOPE_' }, entries: { FEE: { type: 'decimal' } } }, ['--socket', 'a.sock']);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /KS_ERR_SOURCE_NOT_FOUND/);
    assert.doesNotMatch(run.stdout, /ready/);
  });
});
