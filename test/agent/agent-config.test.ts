import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAgentConfig } from '../../src/agent/agent-config.ts';
import { loadAgentConfig } from '../../src/agent/load-agent-config.ts';
import { parseSourceFlag } from '../../src/agent/source-config.ts';
import { ErrorCodes, KeyshiftError, PolicyError } from '../../src/errors.ts';

const base = { source: { kind: 'env' } };
const refuses = (json: unknown, code: string, pattern: RegExp, entry?: string) =>
  assert.throws(
    () => parseAgentConfig(json, '/etc/keyshift'),
    (e: unknown) => e instanceof KeyshiftError && e.code === code && pattern.test(e.message) && (entry === undefined || e.entry === entry),
  );

describe('agent declaration file', () => {
  it('parses entries, types with options, deliveries, files, api and admin', () => {
    const config = parseAgentConfig(
      {
        ...base,
        name: 'pgp-split1',
        deliver: ['files', 'api'],
        entries: {
          CHANGENOW_API_KEY: { type: 'string', category: 'api-key', ttlMs: 60_000 },
          TP_LIMIT: { type: { kind: 'int', min: 1 } },
          WALLET_PRIVATE_KEY: { type: 'string', static: true, deliver: ['env'] },
        },
        files: { dir: 'secrets', templates: { 'cn.env': 'KEY={{CHANGENOW_API_KEY}}' }, notify: { command: ['kill', '-HUP', '1'] } },
        api: { socket: 'agent.sock' },
        admin: { port: 0 },
      },
      '/etc/keyshift',
    );
    assert.equal(config.name, 'pgp-split1');
    assert.deepEqual([...(config.deliver.get('CHANGENOW_API_KEY') ?? [])], ['files', 'api']);
    assert.deepEqual([...(config.deliver.get('WALLET_PRIVATE_KEY') ?? [])], ['env']);
    assert.equal(config.files?.dir, '/etc/keyshift/secrets');
    assert.deepEqual(config.api, { socket: '/etc/keyshift/agent.sock', tokenEnv: 'KEYSHIFT_AGENT_TOKEN' });
    assert.deepEqual(config.admin, { host: '127.0.0.1', port: 0, tokenEnv: 'KEYSHIFT_ADMIN_TOKEN' });
    const limit = config.declaration.TP_LIMIT?.type;
    assert.equal(limit?.decode('7'), '7', 'the text is handed over');
    assert.throws(() => limit?.decode('0'), /below the minimum/);
    assert.throws(() => limit?.decode('x'), /integer/);
  });

  it('refuses an unknown type, naming the entry', () => {
    refuses({ ...base, entries: { OK: { type: 'string' }, FEE: { type: 'money' } } }, ErrorCodes.INVALID_DECLARATION, /entry FEE: unknown type "money"/, 'FEE');
  });

  it('refuses a dynamic *_PRIVATE_KEY with the policy error of defineSecrets', () => {
    assert.throws(
      () => parseAgentConfig({ ...base, entries: { HOT_WALLET_PRIVATE_KEY: { type: 'string' } } }, '/'),
      (e: unknown) => e instanceof PolicyError && e.code === ErrorCodes.POLICY && e.entry === 'HOT_WALLET_PRIVATE_KEY' && e.rule === 'private-key-static',
    );
  });

  it('refuses typos, bad fields and bad sections with a message that names them', () => {
    refuses({ ...base, entries: { A: { type: 'string', ttl: 5 } } }, ErrorCodes.INVALID_DECLARATION, /entry A: unknown field "ttl"/, 'A');
    refuses({ ...base, entries: { A: { type: 'string', static: 'yes' } } }, ErrorCodes.INVALID_DECLARATION, /static must be true or false/, 'A');
    refuses({ ...base, entries: { A: { type: 'string', ttlMs: -1 } } }, ErrorCodes.INVALID_DECLARATION, /ttlMs/, 'A');
    refuses({ ...base, entries: { A: { type: 'string', category: 'nope' } } }, ErrorCodes.INVALID_DECLARATION, /unknown category/, 'A');
    refuses({ ...base, entries: {} }, ErrorCodes.INVALID_DECLARATION, /at least one entry/);
    refuses({ ...base, entries: { A: { type: 'string' } }, files: { dir: 'x', templates: { 't.env': '{{B}}' } } }, ErrorCodes.INVALID_DECLARATION, /files.templates.t.env: refers to an entry/);
    refuses({ ...base, entries: { A: { type: 'string' } }, api: { host: '0.0.0.0', port: 1 } }, ErrorCodes.INVALID_DECLARATION, /loopback/);
    assert.equal((parseAgentConfig({ ...base, entries: { A: { type: 'string' } }, admin: { host: '0.0.0.0', port: 8788 } }, '/').admin as { host: string }).host, '0.0.0.0', 'the admin surface (token-guarded) may listen for probes');
    refuses({ source: { kind: 'ftp' }, entries: { A: { type: 'string' } } }, ErrorCodes.INVALID_DECLARATION, /source: unknown kind/);
  });

  it('reads a file; invalid JSON is refused without quoting the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keyshift-agent-config-'));
    try {
      await writeFile(join(dir, 'ok.json'), JSON.stringify({ ...base, entries: { A: { type: 'bool' } } }));
      assert.equal((await loadAgentConfig(join(dir, 'ok.json'))).declaration.A?.type.kind, 'bool');
      await writeFile(join(dir, 'bad.json'), '{"entries": {"A": "hunter2-value" ');
      await assert.rejects(loadAgentConfig(join(dir, 'bad.json')), (e: unknown) => e instanceof KeyshiftError && /not valid JSON/.test(e.message) && !e.message.includes('hunter2'));
      await assert.rejects(loadAgentConfig(join(dir, 'missing.json')), /cannot read .*ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the declaration in docs/agent.md is valid', async () => {
    const doc = await readFile(new URL('../../docs/agent.md', import.meta.url), 'utf8');
    const block = /```json\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(block, 'docs/agent.md has a json block');
    const config = parseAgentConfig(JSON.parse(block), '/srv/app');
    assert.equal(config.source?.kind, 'local-store');
    assert.deepEqual([...(config.deliver.get('SUCCESS_URL_SIGNING_KEY') ?? [])], ['env']);
  });

  it('the declaration of the Python example (examples/pgp/python/agent.json) is valid', async () => {
    const config = await loadAgentConfig(fileURLToPath(new URL('../../examples/pgp/python/agent.json', import.meta.url)));
    assert.equal(config.declaration.CHANGENOW_API_KEY?.category, 'api-key');
    assert.equal(config.declaration.SUCCESS_URL_SIGNING_KEY?.static, true);
  });

  it('--source flags name every kind of source', () => {
    assert.deepEqual(parseSourceFlag('local-store:store', '/srv'), { kind: 'local-store', dir: '/srv/store' });
    assert.deepEqual(parseSourceFlag('env:PGP_', '/'), { kind: 'env', prefix: 'PGP_' });
    assert.deepEqual(parseSourceFlag('gcp:my-project', '/'), { kind: 'gcp-secret-manager', project: 'my-project' });
    assert.deepEqual(parseSourceFlag('aws:eu-west-1', '/'), { kind: 'aws-secrets-manager', region: 'eu-west-1' });
    assert.throws(() => parseSourceFlag('vault:x', '/'), /must be local-store:DIR/);
  });
});
