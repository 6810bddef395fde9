import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAgentConfig } from '../../src/agent/agent-config.ts';
import type { RenderFs } from '../../src/agent/file-renderer.ts';
import { type AgentEvent, type RunningAgent, startAgent } from '../../src/agent/start-agent.ts';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { memorySource } from '../../src/sources/memory.ts';
import type { Logger } from '../../src/types.ts';
import { createFakeClock, type FakeClock } from '../../src/testing/fake-clock.ts';

const TOKEN = 'agent-test-token-0123456789';
const quiet = { info() {}, warn() {}, error() {} };
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function setup(extra: Record<string, unknown> = {}, renderFs?: RenderFs, clock?: FakeClock, logger: Logger = quiet) {
  const dir = await mkdtemp(join(tmpdir(), 'keyshift-agent-'));
  dirs.push(dir);
  const source = memorySource({ values: { API_KEY: 'key-one', LIMIT: '5' } });
  const config = parseAgentConfig(
    {
      entries: { API_KEY: { type: 'string', category: 'api-key' }, LIMIT: { type: { kind: 'int', min: 1 } } },
      files: { dir: 'out' },
      api: { port: 0 },
      admin: { port: 0 },
      ...extra,
    },
    dir,
  );
  const events: AgentEvent[] = [];
  const agent = await startAgent({ config, source, env: { KEYSHIFT_AGENT_TOKEN: TOKEN, KEYSHIFT_ADMIN_TOKEN: TOKEN }, logger, onEvent: (e) => events.push(e), ...(renderFs ? { renderFs } : {}), ...(clock ? { clock } : {}) });
  return { dir, source, config, agent, events };
}

function nextChange(agent: RunningAgent): Promise<number> {
  return new Promise((resolve) => {
    const keepAlive = setTimeout(() => {}, 60_000);
    const stop = agent.view.onChange((snapshot) => {
      clearTimeout(keepAlive);
      stop();
      resolve(snapshot.generation);
    });
  });
}

function until<T>(events: T[], test: (e: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      const found = events.find(test);
      if (found !== undefined) {
        clearInterval(poll);
        resolve(found);
      }
    }, 10);
  });
}

describe('startAgent', () => {
  it('serves the read API on loopback only with its token, and reads many entries at one generation', async () => {
    const { agent } = await setup();
    try {
      const url = `${agent.apiAddress}/v1/entries?names=API_KEY,LIMIT`;
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 403);
      const body = (await (await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { generation: number; entries: Record<string, { value: string; version: string }> };
      assert.equal(body.entries.API_KEY?.value, 'key-one');
      assert.equal(body.entries.LIMIT?.value, '5');
      assert.equal(body.generation, 1);
      const health = await fetch(`${agent.adminAddress}/admin/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(health.status, 200);
      assert.doesNotMatch(await health.text(), /key-one/);
    } finally {
      await agent.close();
    }
  });

  it('a value pasted where an entry name goes is neither named back in the 404 nor written to the access log', async () => {
    const lines: string[] = [];
    let wanted = 0;
    let reached: (() => void) | undefined;
    const record = (obj: unknown, msg: string): void => {
      lines.push(`${msg} ${JSON.stringify(obj)}`);
      if (lines.filter((l) => l.startsWith('agent read api')).length >= wanted) reached?.();
    };
    const { agent } = await setup({}, undefined, undefined, { info: record, warn: record, error: record });
    const value = 'ghp_7Fq2Lx9WmZ3kP8vR1tY6nB4cD0sJ5hA2eG';
    const fragment = value.slice(4, 12);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const targets = [`/v1/entries/${value}`, `/v1/entries/${encodeURIComponent(value)}`, `/v1/entries?names=API_KEY,${value}`, `/${value}`, `/v1/${value}?x=${value}`];
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      wanted = targets.length;
      const logged = new Promise<void>((resolve) => {
        reached = resolve;
      });
      const bodies: string[] = [];
      for (const target of targets) {
        const res = await fetch(`${agent.apiAddress}${target}`, { headers: auth });
        assert.equal(res.status, 404, target.replace(value, 'VALUE'));
        bodies.push(await res.text());
      }
      await logged;
      const text = [...bodies, ...lines].join('\n');
      assert.match(text, /withheld/);
      assert.equal(text.includes(fragment), false, 'the value is in a 404 or a log line');
    } finally {
      clearInterval(keepAlive);
      await agent.close();
    }
  });

  it('a change swaps the files, answers the long poll and the event stream, and calls the notify URL with names only', async () => {
    const posts: string[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        posts.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const { dir, source, agent, events } = await setup({ files: { dir: 'out', notify: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/changed` } } });
    try {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const poll = fetch(`${agent.apiAddress}/v1/changes?since=1&timeoutMs=30000`, { headers: auth }).then((r) => r.json());
      const stream = await fetch(`${agent.apiAddress}/v1/changes`, { headers: { ...auth, accept: 'text/event-stream' } });
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      const changed = nextChange(agent);
      source.set('API_KEY', 'key-two');
      await agent.ks.refresh('API_KEY' as never);
      assert.equal(await changed, 2);
      assert.deepEqual(await poll, { generation: 2, changed: ['API_KEY'] });
      let text = '';
      while (!text.includes('event: change')) text += new TextDecoder().decode((await reader.read()).value);
      assert.match(text, /"changed":\["API_KEY"\]/);
      await reader.cancel();
      await until(posts, () => true);
      assert.deepEqual(JSON.parse(posts[0] as string), { generation: 2, changed: ['API_KEY'] });
      assert.equal(await readFile(join(dir, 'out', 'API_KEY'), 'utf8'), 'key-two');
      assert.ok(events.some((e) => e.type === 'rendered' && e.generation === 2));
      assert.doesNotMatch(JSON.stringify(events), /key-/);
    } finally {
      await agent.close();
      hook.close();
    }
  });

  it('runs the notify command after a swap, with the changed names (never values) in its environment', async () => {
    const marker = join(await mkdtemp(join(tmpdir(), 'keyshift-notify-')), 'changed');
    dirs.push(marker.slice(0, -'/changed'.length));
    const command = [process.execPath, '-e', "const fs = require('node:fs'); fs.writeFileSync(process.argv[1] + '.tmp', process.env.KEYSHIFT_CHANGED + ' ' + process.env.KEYSHIFT_GENERATION); fs.renameSync(process.argv[1] + '.tmp', process.argv[1])", marker];
    const { source, agent } = await setup({ files: { dir: 'out', notify: { command } } });
    try {
      source.set('LIMIT', '6');
      await agent.ks.refresh('LIMIT' as never);
      let text: string | undefined;
      while (text === undefined) {
        text = await readFile(marker, 'utf8').catch(() => undefined); // written whole (renamed into place); the test's own timer holds the loop open
        if (text === undefined) await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(text, 'LIMIT 2');
    } finally {
      await agent.close();
    }
  });

  it('a rejected version changes nothing: files, API and generation keep the working value', async () => {
    const { dir, source, agent } = await setup();
    try {
      source.set('LIMIT', 'not-a-number');
      const [result] = await agent.ks.refresh('LIMIT' as never);
      assert.equal(result?.outcome, 'rejected');
      assert.equal(agent.view.current().generation, 1);
      assert.equal(await readFile(join(dir, 'out', 'LIMIT'), 'utf8'), '5');
    } finally {
      await agent.close();
    }
  });

  it('a full disk during a swap is a render-failed event; the files stay, and the swap is retried once the disk has room', async () => {
    let full = false;
    const renderFs = { ...fsp, writeFile: (...args: Parameters<typeof fsp.writeFile>) => (full ? Promise.reject(Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' })) : fsp.writeFile(...args)) } as RenderFs;
    const { dir, source, agent, events } = await setup({}, renderFs);
    try {
      full = true;
      source.set('API_KEY', 'key-two');
      await agent.ks.refresh('API_KEY' as never);
      const failed = await until(events, (e) => e.type === 'render-failed');
      assert.ok(failed.type === 'render-failed' && failed.error.code === ErrorCodes.RENDER_FAILED && /ENOSPC/.test(failed.error.message));
      assert.equal(await readFile(join(dir, 'out', 'API_KEY'), 'utf8'), 'key-one', 'the working file stays');
      full = false;
      await until(events, (e) => e.type === 'rendered' && e.generation === 2);
      assert.equal(await readFile(join(dir, 'out', 'API_KEY'), 'utf8'), 'key-two');
    } finally {
      await agent.close();
    }
  });

  it('a fail-closed entry past its maxStaleMs is withheld (503 KS_ERR_STALE, its file gone) and comes back when the store recovers', async () => {
    const clock = createFakeClock();
    const entries = { API_KEY: { type: 'string', category: 'api-key', maxStaleMs: 1_000, onStale: 'fail-closed' }, LIMIT: { type: 'int' } };
    const { dir, source, agent, events } = await setup({ entries }, undefined, clock);
    const auth = { authorization: `Bearer ${TOKEN}` };
    try {
      source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
      await agent.ks.refresh('API_KEY' as never);
      await clock.tick(1_001);
      assert.ok(agent.view.current().withheld.has('API_KEY'));
      const stale = await fetch(`${agent.apiAddress}/v1/entries/API_KEY`, { headers: auth });
      assert.equal(stale.status, 503);
      assert.equal(((await stale.json()) as { error: { code: string } }).error.code, 'KS_ERR_STALE');
      await until(events, (e) => e.type === 'rendered' && e.generation === 2);
      await assert.rejects(readFile(join(dir, 'out', 'API_KEY'), 'utf8'), { code: 'ENOENT' });
      assert.equal(await readFile(join(dir, 'out', 'LIMIT'), 'utf8'), '5', 'the other entries stay');
      source.fail(undefined);
      await clock.tick(60_000); // the backoff's retry fetches again
      await until(events, (e) => e.type === 'rendered' && e.generation === 3);
      const back = await fetch(`${agent.apiAddress}/v1/entries/API_KEY`, { headers: auth });
      assert.equal(((await back.json()) as { value: string }).value, 'key-one');
      assert.equal(await readFile(join(dir, 'out', 'API_KEY'), 'utf8'), 'key-one');
    } finally {
      await agent.close();
    }
  });

  it('a second agent on the same directory refuses to start (KS_ERR_AGENT_LOCKED) and the first keeps serving', async () => {
    const { dir, config, agent } = await setup();
    try {
      const second = startAgent({ config: { ...config, api: undefined, admin: undefined }, source: memorySource({ values: { API_KEY: 'other', LIMIT: '1' } }), logger: quiet });
      await assert.rejects(second, (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.AGENT_LOCKED);
      assert.equal(await readFile(join(dir, 'out', 'API_KEY'), 'utf8'), 'key-one');
    } finally {
      await agent.close();
    }
  });
});
