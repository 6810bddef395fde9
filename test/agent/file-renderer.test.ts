import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileRenderer, type RenderFs } from '../../src/agent/file-renderer.ts';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { runProcess } from '../_process.ts';
import { snapshotOf } from './_snapshot.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'keyshift-render-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** A file-system whose `op` fails with `code` while `armed` is true. */
function faultyFs(op: 'writeFile' | 'mkdir' | 'rename' | 'symlink', code: string): RenderFs & { armed: boolean } {
  const fs = { ...fsp, armed: false } as RenderFs & { armed: boolean };
  const real = { writeFile: fsp.writeFile, mkdir: fsp.mkdir, rename: fsp.rename, symlink: fsp.symlink }[op] as (...args: unknown[]) => Promise<unknown>;
  (fs as unknown as Record<string, unknown>)[op] = (...args: unknown[]) => {
    if (fs.armed) return Promise.reject(Object.assign(new Error(`${code}: injected`), { code }));
    return real(...args);
  };
  return fs;
}

// A reader in another process: opens DIR/VALUE in a loop until DIR/../stop exists, and
// counts reads, reads that were not one whole version ("N:xxxx…x:N"), and missing files.
const READER = `
const fs = require('node:fs');
const [file, stop] = process.argv.slice(1);
const whole = /^(\\d+):x{4096}:\\1$/;
let reads = 0, bad = 0, missing = 0, seen = new Set();
process.stdout.write('reading\\n');
while (!fs.existsSync(stop)) {
  for (let i = 0; i < 50; i++) {
    try {
      const text = fs.readFileSync(file, 'utf8');
      reads++;
      const m = whole.exec(text);
      if (m) seen.add(m[1]); else bad++;
    } catch (e) { if (e.code === 'ENOENT') missing++; else throw e; }
  }
}
process.stdout.write(JSON.stringify({ reads, bad, missing, versions: seen.size }) + '\\n');
`;

function versionText(i: number): string {
  return `${i}:${'x'.repeat(4096)}:${i}`;
}

describe('FileRenderer: the Kubernetes-style atomic swap', () => {
  it('renders DIR/NAME -> ..data/NAME (0600) and a template, and removes superseded directories', async () => {
    const dir = join(await tempDir(), 'out');
    const renderer = await FileRenderer.open({ dir, entries: ['A', 'B'], templates: { 'ab.env': 'A={{A}}\nB={{ B }}\n' }, retainMs: 0 });
    for (let g = 1; g <= 4; g++) await renderer.render(snapshotOf({ A: `a${g}`, B: `b${g}` }, g));
    assert.equal(await readFile(join(dir, 'A'), 'utf8'), 'a4');
    assert.equal(await readFile(join(dir, 'ab.env'), 'utf8'), 'A=a4\nB=b4\n');
    assert.equal(await readlink(join(dir, 'A')), join('..data', 'A'));
    assert.equal((await stat(join(dir, 'A'))).mode & 0o777, 0o600);
    const versions = (await readdir(dir)).filter((n) => n.startsWith('..') && n !== '..data');
    assert.equal(versions.length, 1, 'only the current directory (retainMs: 0)');
    await renderer.close();
  });

  it('removes a superseded directory after retainMs even when no other swap follows', async () => {
    const dir = join(await tempDir(), 'out');
    const renderer = await FileRenderer.open({ dir, entries: ['A'], retainMs: 20 });
    await renderer.render(snapshotOf({ A: 'old' }, 1));
    await renderer.render(snapshotOf({ A: 'new' }, 2));
    const count = async () => (await readdir(dir)).filter((n) => n.startsWith('..2')).length;
    while ((await count()) > 1) await new Promise((r) => setTimeout(r, 10)); // the test's own timer holds the loop open
    assert.equal(await readFile(join(dir, 'A'), 'utf8'), 'new');
    await renderer.close();
  });

  it('leaves out a withheld entry and every template that uses it', async () => {
    const dir = join(await tempDir(), 'out');
    const renderer = await FileRenderer.open({ dir, entries: ['A', 'B'], templates: { 'ab.env': '{{A}}{{B}}' } });
    await renderer.render(snapshotOf({ A: 'a', B: 'b' }));
    await renderer.render(snapshotOf({ A: 'a2' }, 2, ['B']));
    assert.equal(await readFile(join(dir, 'A'), 'utf8'), 'a2');
    await assert.rejects(readFile(join(dir, 'B'), 'utf8'), { code: 'ENOENT' });
    await assert.rejects(readFile(join(dir, 'ab.env'), 'utf8'), { code: 'ENOENT' });
    await renderer.close();
  });

  it('a reader in another process never sees a partial, empty or missing file during 1,000 swaps', async () => {
    const root = await tempDir();
    const dir = join(root, 'out');
    const renderer = await FileRenderer.open({ dir, entries: ['VALUE'] });
    await renderer.render(snapshotOf({ VALUE: versionText(0) }, 1));
    const reader = runProcess(process.execPath, ['-e', READER, join(dir, 'VALUE'), join(root, 'stop')]);
    while (!reader.stdout().includes('reading')) await new Promise((r) => setTimeout(r, 10));
    for (let i = 1; i <= 1_000; i++) await renderer.render(snapshotOf({ VALUE: versionText(i) }, i + 1));
    await writeFile(join(root, 'stop'), '');
    const run = await reader.done;
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout.split('\n')[1] as string) as { reads: number; bad: number; missing: number; versions: number };
    assert.ok(result.reads > 0, 'the reader read');
    assert.equal(result.bad, 0, 'no partial or empty read');
    assert.equal(result.missing, 0, `the file never went missing: ${JSON.stringify(result)}`);
    assert.equal(await readFile(join(dir, 'VALUE'), 'utf8'), versionText(1_000));
    await renderer.close();
  });

  for (const [op, code] of [
    ['writeFile', 'ENOSPC'],
    ['mkdir', 'EACCES'],
    ['rename', 'EROFS'],
  ] as const) {
    it(`a ${code} on ${op} (full disk, not writable) is KS_ERR_RENDER_FAILED and the previous files stay whole`, async () => {
      const dir = join(await tempDir(), 'out');
      const fs = faultyFs(op, code);
      const renderer = await FileRenderer.open({ dir, entries: ['A'], fs });
      await renderer.render(snapshotOf({ A: 'secret-one' }, 1));
      const before = await readlink(join(dir, '..data'));
      fs.armed = true;
      const error = await renderer.render(snapshotOf({ A: 'secret-two' }, 2)).catch((e: unknown) => e);
      assert.ok(error instanceof KeyshiftError);
      assert.equal(error.code, ErrorCodes.RENDER_FAILED);
      assert.match(error.message, new RegExp(code));
      assert.doesNotMatch(error.message, /secret-/);
      assert.equal(await readlink(join(dir, '..data')), before);
      assert.equal(await readFile(join(dir, 'A'), 'utf8'), 'secret-one');
      assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('..2')), [before], 'the failed directory is removed');
      fs.armed = false;
      await renderer.render(snapshotOf({ A: 'secret-three' }, 3));
      assert.equal(await readFile(join(dir, 'A'), 'utf8'), 'secret-three');
      await renderer.close();
    });
  }

  it('a second renderer on the same directory is KS_ERR_AGENT_LOCKED naming the holder; after close it may take over', async () => {
    const dir = join(await tempDir(), 'out');
    const first = await FileRenderer.open({ dir, entries: ['A'] });
    await assert.rejects(FileRenderer.open({ dir, entries: ['A'] }), (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.AGENT_LOCKED && e.message.includes(`pid ${process.pid}`));
    await first.close();
    const second = await FileRenderer.open({ dir, entries: ['A'] });
    await second.close();
  });

  it('takes over the lock of an agent that died', async () => {
    const dir = join(await tempDir(), 'out');
    const dead = await runProcess(process.execPath, ['-e', '0']).done;
    assert.equal(dead.code, 0);
    await fsp.mkdir(dir);
    const { hostname } = await import('node:os');
    await writeFile(join(dir, '.keyshift-agent.lock'), JSON.stringify({ pid: 2 ** 22 + 17, host: hostname() }));
    const renderer = await FileRenderer.open({ dir, entries: ['A'] });
    await renderer.close();
  });

  it('a target that cannot be a directory refuses to open with KS_ERR_RENDER_FAILED', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'file'), 'x');
    await assert.rejects(FileRenderer.open({ dir: join(root, 'file', 'out'), entries: ['A'] }), (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.RENDER_FAILED && /ENOTDIR|EEXIST/.test(e.message));
  });
});
