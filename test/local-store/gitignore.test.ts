import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isGitIgnored } from '../../src/local-store/gitignore.ts';
import { MASTER_KEY_GIT_WARNING } from '../../src/local-store/master-key.ts';
import { openLocalStore } from '../../src/local-store/open-local-store.ts';
import { runInProcess } from '../cli/_run.ts';

/** A directory that looks like a git work tree (a .git folder is all the check reads). */
async function repo(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ks-git-'));
  await mkdir(join(root, '.git'));
  return root;
}

/** Opens (creates) a store and returns the keyshift warnings emitted meanwhile. */
async function createStore(dir: string): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => {
    if (warning.code === MASTER_KEY_GIT_WARNING) warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    const store = await openLocalStore({ dir, env: {} });
    await store.close();
    await new Promise((resolve) => setImmediate(resolve)); // emitWarning delivers on the next tick
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

describe('Local store: master.key and git', () => {
  it('warns once, naming the file and the exact line, when a new key is inside a repository and not ignored', async () => {
    const root = await repo();
    try {
      const warnings = await createStore(join(root, '.keyshift/store'));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, new RegExp(`${join(root, '.keyshift/store/master.key').replaceAll('/', '\\/')} inside the git repository`));
      assert.match(warnings[0]!, /Add this line to .*\.gitignore: \/\.keyshift\/store\//);
      assert.match(warnings[0]!, /npx keyshift init --gitignore/);
      assert.deepEqual(await createStore(join(root, '.keyshift/store')), [], 'opening the existing store again says nothing');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('says nothing when .gitignore ignores the store, and nothing outside a repository', async () => {
    const root = await repo();
    const outside = await mkdtemp(join(tmpdir(), 'ks-nogit-'));
    try {
      await writeFile(join(root, '.gitignore'), 'node_modules/\n.keyshift/\n');
      assert.deepEqual(await createStore(join(root, '.keyshift/store')), []);
      assert.deepEqual(await createStore(join(outside, 'store')), []);
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('reads .gitignore patterns as git does: names, anchors, globs, directories, negation, nested files', async () => {
    const root = await repo();
    try {
      const key = join(root, 'config/.keyshift/store/master.key');
      await mkdir(join(root, 'config'), { recursive: true });
      const cases: Array<[string, boolean]> = [
        ['master.key\n', true],
        ['.keyshift\n', true],
        ['/.keyshift/\n', false], // anchored at the root: config/.keyshift is another path
        ['/config/.keyshift/\n', true],
        ['config/**/master.key\n', true],
        ['*.key\n', true],
        ['*.pem\n', false],
        ['store/\n', true],
        ['master.key/\n', false], // a directory pattern does not match the file
        ['*.key\n!master.key\n', false],
        ['# .keyshift\n', false],
      ];
      for (const [text, ignored] of cases) {
        await writeFile(join(root, '.gitignore'), text);
        assert.equal(await isGitIgnored(root, key), ignored, JSON.stringify(text));
      }
      await writeFile(join(root, '.gitignore'), '');
      await writeFile(join(root, 'config/.gitignore'), '/.keyshift/\n');
      assert.equal(await isGitIgnored(root, key), true, 'a nested .gitignore anchors at its own directory');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('keyshift doctor fails the check and keyshift init --gitignore adds the line (and only when asked)', async () => {
    const root = await repo();
    try {
      await writeFile(join(root, '.gitignore'), 'node_modules/');
      const env = {};
      const before = await runInProcess(['init', '--store', '.keyshift/store'], { env, cwd: root });
      assert.equal(before.code, 1);
      assert.match(before.stdout, /would be committed\. Add this line to .*\.gitignore:\n {2}\/\.keyshift\/store\//);
      assert.equal(await readFile(join(root, '.gitignore'), 'utf8'), 'node_modules/', 'init without --gitignore writes nothing');
      const doctor = await runInProcess(['doctor', '--store', '.keyshift/store'], { env, cwd: root });
      assert.match(doctor.stdout, /master key in git\s+fail\s+master\.key would be committed: add \/\.keyshift\/store\//);
      const added = await runInProcess(['init', '--gitignore', '--store', '.keyshift/store'], { env, cwd: root });
      assert.equal(added.code, 0, added.stderr);
      assert.equal(await readFile(join(root, '.gitignore'), 'utf8'), 'node_modules/\n# keyshift local store (its master.key decrypts it)\n/.keyshift/store/\n');
      const after = await runInProcess(['doctor', '--store', '.keyshift/store'], { env, cwd: root });
      assert.match(after.stdout, /master key in git\s+ok/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
