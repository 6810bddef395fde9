import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { type StoreEvent, openLocalStore } from '../../src/local-store/index.ts';
import { holdOpen } from '../_hold-open.ts';
import { useStore } from './_helpers.ts';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

function hasCode(code: string): (error: unknown) => boolean {
  return (error) => error instanceof KeyshiftError && error.code === code;
}

describe('Class: LocalStore', () => {
  const context = useStore();

  describe('versioning', () => {
    it('gives every put a new, strictly increasing version and serves latest', async () => {
      const v1 = await context.store.put('API_KEY', 'fake-api-key-1');
      const v2 = await context.store.put('API_KEY', new TextEncoder().encode('fake-api-key-2'));
      assert.deepEqual([v1.version, v2.version], [1, 2]);
      assert.equal(v2.state, 'enabled');
      assert.ok(!Number.isNaN(Date.parse(v2.createTime)));
      const latest = await context.store.access('API_KEY');
      assert.equal(latest.version, 2);
      assert.equal(text(latest.value), 'fake-api-key-2');
      assert.equal((await context.store.access('API_KEY', 'latest')).version, 2);
    });

    it('serves pinned versions by number or decimal string', async () => {
      assert.equal(text((await context.store.access('API_KEY', 1)).value), 'fake-api-key-1');
      assert.equal(text((await context.store.access('API_KEY', '1')).value), 'fake-api-key-1');
    });

    it('reports a missing secret, version or alias as KS_ERR_SOURCE_NOT_FOUND', async () => {
      await assert.rejects(context.store.access('NOPE'), hasCode(ErrorCodes.SOURCE_NOT_FOUND));
      await assert.rejects(context.store.access('API_KEY', 99), hasCode(ErrorCodes.SOURCE_NOT_FOUND));
      await assert.rejects(context.store.access('API_KEY', 'no-such-alias'), hasCode(ErrorCodes.SOURCE_NOT_FOUND));
      await context.store.createSecret('EMPTY');
      await assert.rejects(context.store.access('EMPTY'), hasCode(ErrorCodes.SOURCE_NOT_FOUND));
      await assert.rejects(context.store.versions('NOPE'), hasCode(ErrorCodes.SOURCE_NOT_FOUND));
    });

    it('rejects invalid names and versions without echoing them', async () => {
      const pasted = 'fake-secret-value/with:odd chars';
      await assert.rejects(context.store.put(pasted, 'x'), (error: unknown) => {
        assert.ok(hasCode(ErrorCodes.INVALID_DECLARATION)(error));
        assert.ok(!(error as Error).message.includes(pasted));
        return true;
      });
      await assert.rejects(context.store.put('A'.repeat(256), 'x'), hasCode(ErrorCodes.INVALID_DECLARATION));
      await assert.rejects(context.store.access('API_KEY', 0), hasCode(ErrorCodes.INVALID_DECLARATION));
      await assert.rejects(context.store.access('API_KEY', 1.5), hasCode(ErrorCodes.INVALID_DECLARATION));
    });

    it('refuses a value over maxValueBytes with the size in the message', async () => {
      await assert.rejects(context.store.put('BIG', Buffer.alloc(64 * 1024 + 1)), (error: unknown) => {
        assert.ok(hasCode(ErrorCodes.VALUE_TOO_LARGE)(error));
        assert.match((error as Error).message, /65537 bytes/);
        return true;
      });
    });
  });

  describe('states', () => {
    it('disables, re-enables and destroys versions; latest stays the highest number', async () => {
      await context.store.put('STATES', 'fake-s1');
      await context.store.put('STATES', 'fake-s2');
      assert.equal((await context.store.disableVersion('STATES', 2)).state, 'disabled');
      await assert.rejects(context.store.access('STATES'), (error: unknown) => {
        assert.ok(hasCode(ErrorCodes.VERSION_DISABLED)(error));
        assert.equal((error as KeyshiftError).details.state, 'disabled');
        return true;
      });
      assert.equal(text((await context.store.access('STATES', 1)).value), 'fake-s1');
      assert.equal((await context.store.enableVersion('STATES', 2)).state, 'enabled');
      assert.equal((await context.store.access('STATES')).version, 2);
      assert.equal((await context.store.destroyVersion('STATES', 2)).state, 'destroyed');
      await assert.rejects(context.store.access('STATES'), (error: unknown) => {
        assert.equal((error as KeyshiftError).details.state, 'destroyed');
        return true;
      });
      await assert.rejects(context.store.enableVersion('STATES', 2), hasCode(ErrorCodes.VERSION_DISABLED));
      const states = (await context.store.versions('STATES')).map((v) => `${v.version}:${v.state}`);
      assert.deepEqual(states, ['1:enabled', '2:destroyed']);
      assert.equal((await context.store.put('STATES', 'fake-s3')).version, 3, 'a destroyed version number is never reused');
    });
  });

  describe('aliases and metadata', () => {
    it('resolves aliases and validates them', async () => {
      await context.store.put('ALIASED', 'fake-a1');
      await context.store.put('ALIASED', 'fake-a2');
      const info = await context.store.updateSecret('ALIASED', { aliases: { stable: 1, canary: 2 } });
      assert.deepEqual(info.aliases, { stable: 1, canary: 2 });
      assert.equal(text((await context.store.access('ALIASED', 'stable')).value), 'fake-a1');
      await assert.rejects(context.store.updateSecret('ALIASED', { aliases: { ghost: 9 } }), hasCode(ErrorCodes.SOURCE_NOT_FOUND));
      await assert.rejects(context.store.updateSecret('ALIASED', { aliases: { '1x': 1 } }), hasCode(ErrorCodes.INVALID_DECLARATION));
      await assert.rejects(context.store.updateSecret('ALIASED', { aliases: { latest: 1 } }), hasCode(ErrorCodes.INVALID_DECLARATION));
    });

    it('creates, updates (with etags) and deletes secrets', async () => {
      const created = await context.store.createSecret('META', { labels: { team: 'payments' }, extra: { topics: ['t1'] } });
      assert.equal(created.latest, undefined);
      assert.equal(created.versionCount, 0);
      await assert.rejects(context.store.createSecret('META'), hasCode(ErrorCodes.CONFLICT));
      const updated = await context.store.updateSecret('META', { annotations: { owner: 'ops' } }, { ifEtag: created.etag });
      assert.notEqual(updated.etag, created.etag);
      assert.deepEqual(updated.labels, { team: 'payments' });
      assert.deepEqual(updated.extra, { topics: ['t1'] });
      await assert.rejects(
        context.store.updateSecret('META', { labels: {} }, { ifEtag: created.etag }),
        hasCode(ErrorCodes.CONFLICT),
      );
      const listed = await context.store.list();
      assert.ok(listed.some((s) => s.name === 'META' && s.annotations.owner === 'ops'));
      await context.store.deleteSecret('META');
      await assert.rejects(context.store.getSecret('META'), hasCode(ErrorCodes.SOURCE_NOT_FOUND));
      await assert.rejects(context.store.deleteSecret('META'), hasCode(ErrorCodes.SOURCE_NOT_FOUND));
      assert.equal((await context.store.put('META', 'fake-again')).version, 1, 'a re-created secret starts again at 1');
    });

    it('changes the etag on every write to the secret', async () => {
      const before = (await context.store.getSecret('API_KEY')).etag;
      await context.store.put('API_KEY', 'fake-api-key-3');
      assert.notEqual((await context.store.getSecret('API_KEY')).etag, before);
    });
  });

  describe('conditional writes', () => {
    it('puts only when the latest version is the one expected (0 = none yet)', async () => {
      assert.equal((await context.store.put('ROTATED', 'fake-r1', { ifLatest: 0 })).version, 1);
      assert.equal((await context.store.put('ROTATED', 'fake-r2', { ifLatest: 1 })).version, 2);
      await assert.rejects(context.store.put('ROTATED', 'fake-lost', { ifLatest: 1 }), (error: unknown) => {
        assert.ok(hasCode(ErrorCodes.CONFLICT)(error));
        assert.equal((error as KeyshiftError).details.latest, 2);
        return true;
      });
      assert.equal((await context.store.versions('ROTATED')).length, 2);
    });

    it('lets exactly one of many racing conditional puts win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => context.store.put('RACE', `fake-race-${i}`, { ifLatest: 0 })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.equal((await context.store.versions('RACE')).length, 1);
    });
  });

  describe('events', () => {
    it('reports this process’s writes to watchers, and stops after the disposer', async () => {
      const events: StoreEvent[] = [];
      let wake: () => void = () => undefined;
      const dispose = context.store.watch((event) => {
        events.push(event);
        if (event.type === 'version-destroyed') wake();
      });
      const done = new Promise<void>((resolve) => {
        wake = resolve;
      });
      await context.store.put('EVENTS', 'fake-e1');
      await context.store.disableVersion('EVENTS', 1);
      await context.store.disableVersion('EVENTS', 1); // no change, no event
      await context.store.destroyVersion('EVENTS', 1);
      await holdOpen(done);
      dispose();
      assert.deepEqual(events, [
        { type: 'secret-created', name: 'EVENTS' },
        { type: 'version-added', name: 'EVENTS', version: 1 },
        { type: 'version-disabled', name: 'EVENTS', version: 1 },
        { type: 'version-destroyed', name: 'EVENTS', version: 1 },
      ]);
    });
  });

  it('refuses every call after close()', async () => {
    const other = await openLocalStore({ dir: context.env.dir, masterKey: context.env.key });
    await other.close();
    await other.close();
    await assert.rejects(other.access('API_KEY'), hasCode(ErrorCodes.CLOSED));
    await assert.rejects(other.put('API_KEY', 'x'), hasCode(ErrorCodes.CLOSED));
    assert.throws(() => other.watch(() => undefined), hasCode(ErrorCodes.CLOSED));
  });
});
