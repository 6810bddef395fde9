import { strict as assert } from 'node:assert';
import { chmod, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { versionPath } from '../../src/local-store/_secret-file.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { runChild, tempStore } from './_helpers.ts';

/** Asserts a KeyshiftError with `code` whose message names `path`. */
function failsWith(code: string, path: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof KeyshiftError, String(error));
    assert.equal(error.code, code, error.message);
    assert.ok(error.message.includes(path), `"${error.message}" does not name ${path}`);
    return true;
  };
}

describe('Local store: corrupt and truncated files', () => {
  let env: Awaited<ReturnType<typeof tempStore>>;
  let store: LocalStore;

  before(async () => {
    env = await tempStore();
    store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    await store.put('GOOD', 'fake-good');
  });
  after(async () => {
    await store.close();
    await env.cleanup();
  });

  for (const [label, damage] of [
    ['a truncated', (text: string) => text.slice(0, Math.floor(text.length / 2))],
    ['an empty', () => ''],
    ['a garbage', () => '\u0000\u0001 not json'],
    ['a hand-edited (valid JSON)', (text: string) => text.replace('"enabled"', '"disabled"')],
  ] as const) {
    it(`reports ${label} version file as KS_ERR_STORE_CORRUPT for that version only, never overwrites it`, async () => {
      await store.put('DAMAGED', 'fake-damaged-1');
      await store.put('DAMAGED', 'fake-damaged-2');
      const path = versionPath(env.dir, 'DAMAGED', 1);
      const damaged = damage(await readFile(path, 'utf8'));
      await writeFile(path, damaged);
      await assert.rejects(store.access('DAMAGED', 1), failsWith(ErrorCodes.STORE_CORRUPT, path));
      await assert.rejects(store.disableVersion('DAMAGED', 1), failsWith(ErrorCodes.STORE_CORRUPT, path));
      assert.equal(Buffer.from((await store.access('DAMAGED')).value).toString(), 'fake-damaged-2');
      assert.deepEqual((await store.versions('DAMAGED')).map((v) => v.state), ['damaged', 'enabled']);
      assert.equal((await store.put('DAMAGED', 'fake-more')).version, 3);
      const listed = (await store.list()).find((s) => s.name === 'DAMAGED');
      assert.deepEqual(listed?.damage?.versions, [1]);
      assert.ok(listed?.damage?.problems[0]?.includes(path));
      assert.equal(await readFile(path, 'utf8'), damaged, 'the damaged file was left as it was');
      assert.equal(Buffer.from((await store.access('GOOD')).value).toString(), 'fake-good');
      await store.deleteSecret('DAMAGED');
    });
  }

  it('replaces a damaged head file (it only holds events) instead of refusing every write', async () => {
    const head = join(env.dir, 'head.json');
    const original = await readFile(head, 'utf8');
    await writeFile(head, original.slice(0, 10));
    const versions = (await store.versions('GOOD')).length;
    assert.equal((await store.put('GOOD', 'fake-after-head')).version, versions + 1);
    const rewritten = JSON.parse(await readFile(head, 'utf8')) as { seq: number; events: unknown[] };
    assert.deepEqual(rewritten.events.length, 1, 'the journal starts over, so watchers see a gap and re-read');
    assert.ok(rewritten.seq > JSON.parse(original).seq, 'the sequence moves past anything a watcher has seen');
  });

  it('reports a truncated store header on open, and leaves it alone', async () => {
    const other = await tempStore();
    try {
      await (await openLocalStore({ dir: other.dir, masterKey: other.key })).close();
      const header = join(other.dir, 'store.json');
      const truncated = (await readFile(header, 'utf8')).slice(0, 40);
      await writeFile(header, truncated);
      await assert.rejects(openLocalStore({ dir: other.dir, masterKey: other.key }), failsWith(ErrorCodes.STORE_CORRUPT, header));
      assert.equal(await readFile(header, 'utf8'), truncated);
    } finally {
      await other.cleanup();
    }
  });

  it('reports a truncated, missing or world-readable key file as KS_ERR_MASTER_KEY naming it', async () => {
    const other = await tempStore();
    const saved = process.env.KEYSHIFT_MASTER_KEY;
    delete process.env.KEYSHIFT_MASTER_KEY;
    try {
      await (await openLocalStore({ dir: other.dir })).close();
      const keyFile = join(other.dir, 'master.key');
      const key = await readFile(keyFile, 'utf8');
      await writeFile(keyFile, key.slice(0, 20));
      await assert.rejects(openLocalStore({ dir: other.dir }), failsWith(ErrorCodes.MASTER_KEY, keyFile));
      await writeFile(keyFile, key);
      await chmod(keyFile, 0o644);
      await assert.rejects(openLocalStore({ dir: other.dir }), failsWith(ErrorCodes.MASTER_KEY, keyFile));
      await unlink(keyFile);
      await assert.rejects(openLocalStore({ dir: other.dir }), failsWith(ErrorCodes.MASTER_KEY, keyFile));
    } finally {
      if (saved !== undefined) process.env.KEYSHIFT_MASTER_KEY = saved;
      await other.cleanup();
    }
  });
});

describe('Local store: directories it may not use', () => {
  it('refuses a store path under a regular file with KS_ERR_SOURCE_DENIED naming it', async () => {
    const env = await tempStore();
    try {
      const file = join(env.root, 'plain-file');
      await writeFile(file, 'not a directory');
      const dir = join(file, 'store');
      await assert.rejects(openLocalStore({ dir, masterKey: env.key }), failsWith(ErrorCodes.SOURCE_DENIED, dir));
      await assert.rejects(openLocalStore({ dir: file, masterKey: env.key }), failsWith(ErrorCodes.SOURCE_DENIED, file));
    } finally {
      await env.cleanup();
    }
  });

  it('refuses a directory without permission with KS_ERR_SOURCE_DENIED naming it', async () => {
    const env = await tempStore();
    try {
      await mkdir(env.dir, { mode: 0o700 });
      await chmod(env.dir, 0o000);
      await chmod(env.root, 0o755);
      if (process.getuid?.() === 0) {
        // root ignores file modes: run the opener as an unprivileged user instead.
        const run = await runChild(['open', env.dir], { uid: 65534, gid: 65534, env: { ...process.env, KEYSHIFT_MASTER_KEY: env.key } });
        const result = JSON.parse(run.stdout || '{}') as { code?: string; message?: string };
        assert.equal(result.code, ErrorCodes.SOURCE_DENIED, run.stderr);
        assert.ok(result.message?.includes(env.dir), result.message);
      } else {
        await assert.rejects(openLocalStore({ dir: env.dir, masterKey: env.key }), failsWith(ErrorCodes.SOURCE_DENIED, env.dir));
      }
    } finally {
      await chmod(env.dir, 0o700);
      await env.cleanup();
    }
  });

  it('reports a store that does not exist, with create: false, as KS_ERR_SOURCE_NOT_FOUND', async () => {
    const env = await tempStore();
    try {
      await assert.rejects(openLocalStore({ dir: env.dir, masterKey: env.key, create: false }), failsWith(ErrorCodes.SOURCE_NOT_FOUND, env.dir));
    } finally {
      await env.cleanup();
    }
  });
});
