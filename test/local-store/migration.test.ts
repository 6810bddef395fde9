import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { deriveStoreKeys, macOf, sealValue, valueAad } from '../../src/local-store/encryption.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { tempStore } from './_helpers.ts';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/**
 * A store exactly as keyshift 0.1.0 wrote it: store.json format 1 (no checksum), one file
 * per secret (`secrets/NAME.json`: a header line with one MAC, then the whole secret), and
 * a format 1 head. Built here byte for byte from the 0.1.0 format (docs/sources/local-store.md).
 */
async function legacyStore(dir: string, key: string, secrets: Record<string, string[]>): Promise<void> {
  const storeId = randomBytes(16).toString('hex');
  const keys = deriveStoreKeys(Buffer.from(key, 'base64'), storeId);
  await mkdir(join(dir, 'secrets'), { recursive: true, mode: 0o700 });
  const header = { kind: 'keyshift-store', format: 1, storeId, createTime: '2026-01-01T00:00:00.000Z', cipher: 'aes-256-gcm', kdf: 'hkdf-sha256', keyCheck: keys.keyCheck };
  await writeFile(join(dir, 'store.json'), `${JSON.stringify(header, null, 2)}\n`);
  let seq = 0;
  const events: unknown[] = [];
  for (const [name, values] of Object.entries(secrets)) {
    const versions = values.map((value, i) => ({
      version: i + 1,
      state: 'enabled',
      createTime: '2026-01-01T00:00:00.000Z',
      sealed: sealValue(keys, valueAad(storeId, name, i + 1), Buffer.from(value)),
    }));
    const body = JSON.stringify({ name, createTime: '2026-01-01T00:00:00.000Z', etag: 'e0', labels: { team: 'payments' }, annotations: {}, aliases: { current: 1 }, extra: {}, versions });
    const mac = macOf(keys, `keyshift-secret\0${1}\0${storeId}\0${body}`);
    await writeFile(join(dir, 'secrets', `${name}.json`), `${JSON.stringify({ kind: 'keyshift-secret', format: 1, storeId, mac })}\n${body}\n`);
    events.push({ seq: ++seq, type: 'secret-created', name });
  }
  await writeFile(join(dir, 'head.json'), `${JSON.stringify({ seq, kind: 'keyshift-head', format: 1, events })}\n`);
}

describe('Local store: stores written by keyshift 0.1.0', () => {
  it('reads them as they are, and moves each secret to the per-version layout on its next write', async () => {
    const env = await tempStore();
    await legacyStore(env.dir, env.key, { OLD: ['fake-old-1', 'fake-old-2'], UNTOUCHED: ['fake-untouched-1'] });
    const headerBefore = JSON.parse(await readFile(join(env.dir, 'store.json'), 'utf8')) as Record<string, unknown>;
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    try {
      // Reading changes nothing on disk.
      assert.equal(text((await store.access('OLD')).value), 'fake-old-2');
      assert.equal(text((await store.access('OLD', 'current')).value), 'fake-old-1');
      assert.deepEqual((await store.list()).map((s) => [s.name, s.latest, s.damage]), [['OLD', 2, undefined], ['UNTOUCHED', 1, undefined]]);
      assert.equal((await store.getSecret('OLD')).labels.team, 'payments');
      assert.equal(JSON.parse(await readFile(join(env.dir, 'store.json'), 'utf8')).format, 1, 'a read never rewrites the header');

      // The first write: store.json becomes format 2 (same id and key check, a checksum), OLD moves.
      assert.equal((await store.put('OLD', 'fake-old-3')).version, 3);
      const headerAfter = JSON.parse(await readFile(join(env.dir, 'store.json'), 'utf8')) as Record<string, unknown>;
      assert.deepEqual([headerAfter.format, headerAfter.storeId, headerAfter.keyCheck, headerAfter.createTime], [2, headerBefore.storeId, headerBefore.keyCheck, headerBefore.createTime]);
      assert.match(String(headerAfter.sha256), /^[0-9a-f]{64}$/);
      assert.deepEqual((await readdir(join(env.dir, 'secrets', 'OLD'))).sort(), ['secret.json', 'v1.json', 'v2.json', 'v3.json']);
      await assert.rejects(stat(join(env.dir, 'secrets', 'OLD.json')), 'the 0.1.0 file is removed once moved');
      for (const [v, value] of [[1, 'fake-old-1'], [2, 'fake-old-2'], [3, 'fake-old-3']] as const) assert.equal(text((await store.access('OLD', v)).value), value);
      assert.equal((await store.getSecret('OLD')).aliases.current, 1);
      assert.equal(text((await store.access('UNTOUCHED')).value), 'fake-untouched-1', 'a secret not written stays in its 0.1.0 file, still read');
      await store.close();

      // Another process opening it later finds the new header and both layouts.
      const again = await openLocalStore({ dir: env.dir, masterKey: env.key, create: false });
      assert.deepEqual((await again.list()).map((s) => [s.name, s.latest]), [['OLD', 3], ['UNTOUCHED', 1]]);
      await again.close();
    } finally {
      await store.close();
      await env.cleanup();
    }
  });

  it('reports a damaged 0.1.0 file as a damaged secret (one MAC covered it all), and refuses to write over it', async () => {
    const env = await tempStore();
    await legacyStore(env.dir, env.key, { BROKEN: ['fake-broken-1'], FINE: ['fake-fine-1'] });
    const path = join(env.dir, 'secrets', 'BROKEN.json');
    const bytes = await readFile(path);
    bytes[bytes.length - 20]! ^= 0x04;
    await writeFile(path, bytes);
    const store = await openLocalStore({ dir: env.dir, masterKey: env.key });
    try {
      const listed = await store.list();
      assert.deepEqual(listed.map((s) => [s.name, s.damage?.metadata]), [['BROKEN', true], ['FINE', undefined]]);
      const corrupt = (e: unknown) => e instanceof KeyshiftError && e.code === ErrorCodes.STORE_CORRUPT && e.message.includes(path);
      await assert.rejects(store.access('BROKEN'), corrupt);
      await assert.rejects(store.put('BROKEN', 'fake-new'), corrupt, 'its version numbers are unknown: a put could reuse one');
      assert.deepEqual(await readFile(path), bytes, 'left exactly as it was');
      await store.deleteSecret('BROKEN');
      assert.equal((await store.put('BROKEN', 'fake-new')).version, 1, 'deleting is the explicit way out');
      assert.equal(text((await store.access('FINE')).value), 'fake-fine-1');
    } finally {
      await store.close();
      await env.cleanup();
    }
  });
});
