import { strict as assert } from 'node:assert';
import { readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ErrorCodes, KeyshiftError, isTransient } from '../../src/errors.ts';
import { headForWrite, readHead } from '../../src/local-store/_head.ts';
import { metaPath, versionPath } from '../../src/local-store/_secret-file.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { runInProcess } from '../cli/_run.ts';
import { tempStore } from './_helpers.ts';

/** The damage a test expects: a KeyshiftError with code KS_ERR_STORE_CORRUPT naming `path`. */
function corruptAt(path: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof KeyshiftError, String(error));
    assert.equal(error.code, ErrorCodes.STORE_CORRUPT, error.message);
    assert.ok(error.message.includes(path), `"${error.message}" does not name ${path}`);
    assert.equal(isTransient(error), false, 'damage is permanent: a retry cannot mend it');
    return true;
  };
}

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** `bytes` with the byte at `offset` XORed with `mask` (1-255): a different byte, always. */
function flipped(bytes: Buffer, offset: number, mask: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset]! ^= mask;
  return copy;
}

/** Offsets of one file in every class: first and last byte, each line's edges and newline, the MAC, inside the body. */
function offsetClasses(bytes: Buffer): number[] {
  const newline = bytes.indexOf(0x0a);
  const mac = bytes.indexOf('"mac":"') + 7;
  const body = newline + 1;
  return [...new Set([0, 1, mac, mac + 10, newline - 2, newline - 1, newline, body, body + 1, Math.floor((body + bytes.length) / 2), bytes.length - 2, bytes.length - 1])];
}

describe('Local store: one damaged byte costs one version, not a secret or a store', () => {
  let env: Awaited<ReturnType<typeof tempStore>>;
  let store: LocalStore;
  let serial = 0;

  before(async () => {
    env = await tempStore();
    store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    await store.put('BYSTANDER', 'fake-bystander');
  });
  after(async () => {
    await store.close();
    await env.cleanup();
  });

  /** A fresh secret with three versions (v1 disabled, an alias on v2), and its files. */
  async function threeVersions(): Promise<{ name: string; files: string[] }> {
    const name = `DAMAGE_${++serial}`;
    for (const v of [1, 2, 3]) await store.put(name, `fake-${name}-${v}`);
    await store.updateSecret(name, { aliases: { current: 2 }, labels: { team: 'payments' } });
    await store.disableVersion(name, 1);
    return { name, files: [versionPath(env.dir, name, 1), versionPath(env.dir, name, 2), versionPath(env.dir, name, 3), metaPath(env.dir, name)] };
  }

  /** Everything that must still hold with `hit` damaged: the other versions read, list goes on, put adds a version past it. */
  async function assertContained(name: string, files: string[], hit: number, damaged: Buffer): Promise<void> {
    const path = files[hit]!;
    const isMeta = hit === 3;
    for (const v of [2, 3]) {
      if (v === hit + 1) await assert.rejects(store.access(name, v), corruptAt(path));
      else assert.equal(text((await store.access(name, v)).value), `fake-${name}-${v}`);
    }
    if (hit === 0) await assert.rejects(store.enableVersion(name, 1), corruptAt(path));
    else await assert.rejects(store.access(name, 1), (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.VERSION_DISABLED);
    if (isMeta) {
      await assert.rejects(store.getSecret(name), corruptAt(path));
      await assert.rejects(store.access(name, 'current'), corruptAt(path));
      await assert.rejects(store.updateSecret(name, { labels: {} }), corruptAt(path));
    } else if (hit === 1) {
      await assert.rejects(store.access(name, 'current'), corruptAt(path), 'the alias points at the damaged version');
    } else {
      assert.equal(text((await store.access(name, 'current')).value), `fake-${name}-2`);
    }
    const states = (await store.versions(name)).map((v) => v.state);
    assert.deepEqual(states, ['disabled', 'enabled', 'enabled'].map((s, i) => (i === hit ? 'damaged' : s)));
    const listed = (await store.list()).find((s) => s.name === name);
    assert.ok(listed?.damage, 'list reports the damaged secret');
    assert.deepEqual([listed.damage.metadata, listed.damage.versions], [isMeta, isMeta ? [] : [hit + 1]]);
    assert.ok(listed.damage.problems.every((p) => p.includes(path)));
    assert.ok((await store.list()).some((s) => s.name === 'BYSTANDER' && s.damage === undefined), 'the listing went on');
    assert.equal((await store.put(name, `fake-${name}-4`)).version, 4, 'a new put works, past the damaged version');
    assert.equal(text((await store.access(name)).value), `fake-${name}-4`);
    assert.deepEqual(await readFile(path), damaged, 'the damaged file is left exactly as it was (nothing silently lost)');
  }

  it('contains a flipped byte at every offset class of every file of a secret (fast-check, 40 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.boolean(), async (hit, pick, mask, classOnly) => {
        const { name, files } = await threeVersions();
        const original = await readFile(files[hit]!);
        const classes = offsetClasses(original);
        const offset = classOnly ? classes[pick % classes.length]! : pick % original.length;
        const damaged = flipped(original, offset, mask);
        await writeFile(files[hit]!, damaged);
        await assertContained(name, files, hit, damaged);
      }),
      { numRuns: 40 },
    );
  });

  it('detects a flip at every single offset of a version file and of a metadata file (exhaustive)', async () => {
    const { name, files } = await threeVersions();
    for (const hit of [1, 3]) {
      const path = files[hit]!;
      const original = await readFile(path);
      for (let offset = 0; offset < original.length; offset++) {
        await writeFile(path, flipped(original, offset, 1 << offset % 8));
        if (hit === 1) await assert.rejects(store.access(name, 2), corruptAt(path), `offset ${offset}`);
        else await assert.rejects(store.getSecret(name), corruptAt(path), `offset ${offset}`);
      }
      await writeFile(path, original);
    }
    assert.equal(text((await store.access(name, 'current')).value), `fake-${name}-2`);
  });

  it('lists past a secret file with a syntax error, in the CLI too (table, --json, exit 1)', async () => {
    const { name, files } = await threeVersions();
    await writeFile(files[3]!, '{"kind": "keyshift-secret-meta", oops\n');
    await writeFile(files[2]!, 'not json at all\n');
    const listed = (await store.list()).find((s) => s.name === name)!;
    assert.deepEqual([listed.damage?.metadata, listed.damage?.versions, listed.latest], [true, [3], 3]);
    assert.equal(text((await store.access(name, 2)).value), `fake-${name}-2`);
    const cli = (argv: string[]) => runInProcess([...argv, '--store', env.dir], { env: { KEYSHIFT_MASTER_KEY: env.key }, cwd: env.root });
    const table = await cli(['list']);
    assert.equal(table.code, 1, 'a damaged secret makes the exit code 1');
    assert.match(table.stdout, /^NAME +LATEST +VERSIONS +CREATED +DAMAGED\n/);
    assert.match(table.stdout, new RegExp(`\\n${name} +3 +3 +- +metadata, v3\\n`));
    assert.match(table.stdout, /\nBYSTANDER +1 +1 +\S+ +-\n/);
    assert.match(table.stderr, new RegExp(`secret ${name} is damaged: .*secret\\.json is corrupt.*v3\\.json is corrupt`));
    const asJson = await cli(['list', '--json']);
    const entry = (JSON.parse(asJson.stdout) as Array<{ name: string; damage?: { metadata: boolean; versions: number[] } }>).find((s) => s.name === name);
    assert.deepEqual([entry?.damage?.metadata, entry?.damage?.versions], [true, [3]]);
    const versions = await cli(['versions', name]);
    assert.match(versions.stdout, /\n3 +damaged\b/);
    const doctor = await cli(['doctor']);
    assert.equal(doctor.code, 1, doctor.stdout);
    assert.match(doctor.stdout, new RegExp(`damaged secrets \\(see keyshift list\\): .*\\b${name}\\b`));
  });

  it('reads a version whose file was deleted as damaged, and never reuses its number', async () => {
    const { name, files } = await threeVersions();
    await unlink(files[1]!);
    await assert.rejects(store.access(name, 2), corruptAt(files[1]!));
    assert.equal((await store.put(name, `fake-${name}-4`)).version, 4);
    await assert.rejects(store.access(name, 2), corruptAt(files[1]!));
  });

  it('clears a damaged version only when told to: destroy replaces it with a destroyed record', async () => {
    const { name, files } = await threeVersions();
    await writeFile(files[2]!, flipped(await readFile(files[2]!), 40, 0x20));
    const destroyed = await store.destroyVersion(name, 3);
    assert.deepEqual([destroyed.version, destroyed.state], [3, 'destroyed']);
    assert.equal((await store.list()).find((s) => s.name === name)?.damage, undefined);
  });

  it('detects a flipped byte at every offset of store.json and of head.json', async () => {
    const header = join(env.dir, 'store.json');
    const original = await readFile(header);
    for (let offset = 0; offset < original.length; offset++) {
      await writeFile(header, flipped(original, offset, 1 << offset % 8));
      await assert.rejects(openLocalStore({ dir: env.dir, masterKey: env.key, create: false }), corruptAt(header), `store.json offset ${offset}`);
    }
    await writeFile(header, original);
    // A small store of its own, so its head holds a few events, not this file's hundreds.
    const small = await tempStore();
    const other = await openLocalStore({ dir: small.dir, masterKey: small.key });
    await other.put('A', 'fake-a');
    await other.put('B', 'fake-b');
    await other.close();
    const head = join(small.dir, 'head.json');
    const headBytes = await readFile(head);
    for (let offset = 0; offset < headBytes.length; offset++) {
      await writeFile(head, flipped(headBytes, offset, 1 << offset % 8));
      await assert.rejects(readHead(small.dir), corruptAt(head), `head.json offset ${offset}`);
    }
    const { seq } = await headForWrite(small.dir);
    assert.ok(seq > (JSON.parse(text(headBytes)) as { seq: number }).seq, 'a write after a damaged head jumps the sequence (watchers resync)');
    await writeFile(head, headBytes);
    assert.equal((await readHead(small.dir)).seq, (JSON.parse(text(headBytes)) as { seq: number }).seq);
    await small.cleanup();
  });
});

describe('Local store: every name the rule allows', () => {
  it('stores a 255-character name through put, access, versions, list, getSecret, the CLI and delete', async () => {
    const env = await tempStore();
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    try {
      for (const length of [250, 251, 254, 255]) {
        const name = `N${'a_-9'.repeat(64)}`.slice(0, length);
        assert.equal((await store.put(name, 'fake-long-1')).version, 1);
        assert.equal((await store.put(name, 'fake-long-2')).version, 2);
        assert.equal(text((await store.access(name)).value), 'fake-long-2');
        assert.equal(text((await store.access(name, 1)).value), 'fake-long-1');
        assert.deepEqual((await store.versions(name)).map((v) => v.state), ['enabled', 'enabled']);
        assert.equal((await store.getSecret(name)).latest, 2);
        assert.ok((await store.list()).some((s) => s.name === name && s.damage === undefined));
        await store.disableVersion(name, 1);
        const cli = await runInProcess(['get', name, '--reveal', '--store', env.dir], { env: { KEYSHIFT_MASTER_KEY: env.key }, cwd: env.root });
        assert.deepEqual([cli.code, cli.stdout], [0, 'fake-long-2'], cli.stderr);
        await store.deleteSecret(name);
        assert.equal((await store.list()).some((s) => s.name === name), false);
      }
      assert.deepEqual((await readdir(join(env.dir, 'secrets'))).filter((f) => f.startsWith('.')), [], 'no temp file or deleted directory left');
    } finally {
      await store.close();
      await env.cleanup();
    }
  });

  it('reports a path the file system cannot hold as a permanent KS_ERR_SOURCE_DENIED, not a transient failure', async () => {
    const env = await tempStore();
    try {
      const dir = join(env.root, 'x'.repeat(300));
      const error = await openLocalStore({ dir, masterKey: env.key }).then(
        () => assert.fail('opened'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof KeyshiftError);
      assert.equal(error.code, ErrorCodes.SOURCE_DENIED, error.message);
      assert.match(error.message, /too long for this file system/);
      assert.equal(isTransient(error), false);
    } finally {
      await env.cleanup();
    }
  });
});
