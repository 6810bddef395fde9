import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { loadSecret, loadVersion, serializeVersion, versionPath } from '../../src/local-store/_secret-file.ts';
import { deriveStoreKeys, openValue, sealValue, valueAad } from '../../src/local-store/encryption.ts';
import { generateMasterKey, openLocalStore } from '../../src/local-store/index.ts';
import { runChild, tempStore, useStore } from './_helpers.ts';

/** Every file under dir, recursively, as bytes. */
async function allFiles(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path, await readFile(path));
    }
  }
  return files;
}

function hasCode(code: string): (error: unknown) => boolean {
  return (error) => error instanceof KeyshiftError && error.code === code;
}

interface SealedJson {
  ciphertext: string;
  wrappedKey: string;
}
type Body = { sealed: SealedJson };

/** A version file is two lines: a header with the MAC, then the version record as JSON. */
async function readBody(path: string): Promise<{ header: string; body: Body }> {
  const [header, body] = (await readFile(path, 'utf8')).split('\n');
  return { header: header!, body: JSON.parse(body!) as Body };
}

async function storeId(dir: string): Promise<string> {
  return (JSON.parse(await readFile(join(dir, 'store.json'), 'utf8')) as { storeId: string }).storeId;
}

describe('Local store: encryption at rest', () => {
  const context = useStore();
  const canary = `fake-canary-${randomBytes(16).toString('hex')}`;

  it('never writes the plaintext (or its base64 or hex) to any file', async () => {
    await context.store.put('CANARY', canary);
    await context.store.put('CANARY', `${canary}-2`);
    await context.store.disableVersion('CANARY', 1);
    const encodings = [canary, Buffer.from(canary).toString('base64'), Buffer.from(canary).toString('hex')];
    const files = await allFiles(context.env.dir);
    assert.ok(files.size >= 3);
    for (const [path, bytes] of files) {
      for (const encoded of encodings) assert.ok(!bytes.includes(encoded), `${path} holds the value`);
    }
    assert.equal(Buffer.from((await context.store.access('CANARY', 1 + 1)).value).toString(), `${canary}-2`);
  });

  it('wipes the ciphertext and wrapped key of a destroyed version', async () => {
    const path = versionPath(context.env.dir, 'CANARY', 1);
    const sealed = (await readBody(path)).body.sealed;
    await context.store.destroyVersion('CANARY', 1);
    const after = await readFile(path, 'utf8');
    assert.ok(!after.includes(sealed.ciphertext));
    assert.ok(!after.includes(sealed.wrappedKey));
  });

  it('rejects a tampered ciphertext as KS_ERR_STORE_CORRUPT naming the file', async () => {
    await context.store.put('TAMPER', 'fake-tamper-value');
    const path = versionPath(context.env.dir, 'TAMPER', 1);
    const original = await readFile(path, 'utf8');
    const { header, body } = await readBody(path);
    const bytes = Buffer.from(body.sealed.ciphertext, 'base64');
    bytes[0]! ^= 1;
    body.sealed.ciphertext = bytes.toString('base64');
    await writeFile(path, `${header}\n${JSON.stringify(body)}\n`);
    await assert.rejects(context.store.access('TAMPER'), (error: unknown) => {
      assert.ok(hasCode(ErrorCodes.STORE_CORRUPT)(error));
      assert.ok((error as Error).message.includes(path));
      return true;
    });
    await writeFile(path, original);
  });

  it('binds each ciphertext to its store, name and version (AAD), even past the MAC', async () => {
    // An attacker who could forge the MAC still cannot move version 2's ciphertext to version 1.
    await context.store.put('AAD', 'fake-aad-1');
    await context.store.put('AAD', 'fake-aad-2');
    const id = await storeId(context.env.dir);
    const keys = deriveStoreKeys(Buffer.from(context.env.key, 'base64'), id);
    const secret = (await loadSecret(context.env.dir, keys, id, 'AAD'))!;
    const [one, two] = await Promise.all([1, 2].map((v) => loadVersion(context.env.dir, keys, id, secret, v)));
    await writeFile(versionPath(context.env.dir, 'AAD', 1), serializeVersion(keys, id, 'AAD', { ...one!, sealed: two!.sealed }));
    await assert.rejects(context.store.access('AAD', 1), hasCode(ErrorCodes.STORE_CORRUPT));
    assert.equal(Buffer.from((await context.store.access('AAD', 2)).value).toString(), 'fake-aad-2');
  });

  it('seals with a fresh data key and nonce each time, and fails closed on a wrong AAD', () => {
    const keys = deriveStoreKeys(randomBytes(32), 'a'.repeat(32));
    const aad = valueAad('a'.repeat(32), 'NAME', 1);
    const one = sealValue(keys, aad, Buffer.from('fake-x'));
    const two = sealValue(keys, aad, Buffer.from('fake-x'));
    assert.notEqual(one.nonce, two.nonce);
    assert.notEqual(one.wrappedKey, two.wrappedKey);
    assert.equal(openValue(keys, aad, one).toString(), 'fake-x');
    assert.throws(() => openValue(keys, valueAad('a'.repeat(32), 'NAME', 2), one));
    assert.throws(() => openValue(keys, valueAad('a'.repeat(32), 'OTHER', 1), one));
    assert.throws(() => openValue(keys, valueAad('b'.repeat(32), 'NAME', 1), one));
  });
});

describe('Local store: master key', () => {
  it('refuses a wrong key with KS_ERR_MASTER_KEY from the key check, touching nothing', async () => {
    const env = await tempStore();
    try {
      const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
      await store.put('KEYED', 'fake-keyed');
      await store.close();
      const before = await allFiles(env.dir);
      await assert.rejects(openLocalStore({ dir: env.dir, masterKey: generateMasterKey() }), (error: unknown) => {
        assert.ok(hasCode(ErrorCodes.MASTER_KEY)(error));
        assert.match((error as Error).message, /wrong master key/);
        assert.ok((error as Error).message.includes(env.dir));
        return true;
      });
      assert.deepEqual(await allFiles(env.dir), before);
    } finally {
      await env.cleanup();
    }
  });

  it('rejects keys that are not 32 bytes of base64', async () => {
    const env = await tempStore();
    try {
      for (const masterKey of ['not base64!', Buffer.alloc(16).toString('base64'), new Uint8Array(31)]) {
        await assert.rejects(openLocalStore({ dir: env.dir, masterKey }), hasCode(ErrorCodes.MASTER_KEY));
      }
    } finally {
      await env.cleanup();
    }
  });

  it('reads KEYSHIFT_MASTER_KEY when no key is given', async () => {
    const env = await tempStore();
    const saved = process.env.KEYSHIFT_MASTER_KEY;
    try {
      process.env.KEYSHIFT_MASTER_KEY = env.key;
      const store = await openLocalStore({ dir: env.dir });
      await store.put('FROM_ENV', 'fake-env');
      await store.close();
      await assert.rejects(stat(join(env.dir, 'master.key')), { code: 'ENOENT' });
      const again = await openLocalStore({ dir: env.dir, masterKey: env.key });
      assert.equal((await again.access('FROM_ENV')).version, 1);
      await again.close();
    } finally {
      if (saved === undefined) delete process.env.KEYSHIFT_MASTER_KEY;
      else process.env.KEYSHIFT_MASTER_KEY = saved;
      await env.cleanup();
    }
  });

  it('creates one key file, mode 0600, when two processes create the store at once', async () => {
    const env = await tempStore();
    const childEnv = { ...process.env, KEYSHIFT_MASTER_KEY: '' };
    try {
      const runs = await Promise.all([runChild(['open', env.dir], { env: childEnv }), runChild(['open', env.dir], { env: childEnv })]);
      for (const run of runs) assert.deepEqual(JSON.parse(run.stdout), { ok: true }, run.stderr);
      const info = await stat(join(env.dir, 'master.key'));
      assert.equal(info.mode & 0o777, 0o600);
      assert.equal((await stat(env.dir)).mode & 0o777, 0o700);
      const store = await openLocalStore({ dir: env.dir, masterKey: undefined });
      await store.close();
    } finally {
      await env.cleanup();
    }
  });
});
