// Parallel reads of one secret's versions: while puts and rotations write it, from one
// handle and from a second handle on the same directory; and while the handle is closed
// under them. A read either returns the bytes that version was given or, once close() has
// begun, is refused as closed: never "MAC does not verify" on a sound file (the keys were
// wiped by close() while reads were still verifying and decrypting).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ErrorCodes, KeyshiftError } from '../../src/errors.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { createRotationRunner } from '../../src/rotation/staged/rotation-runner.ts';
import { randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import { tempStore } from './_helpers.ts';

const NAME = 'WEBHOOK_SECRET';
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

describe('Local store: parallel reads of several versions', () => {
  it('two handles read every version in parallel, and zero their copies, while puts and rotations add versions', async (t) => {
    const env = await tempStore();
    const writer = await openLocalStore({ dir: env.dir, masterKey: env.key });
    const reader = await openLocalStore({ dir: env.dir, masterKey: env.key, create: false });
    try {
      /** Version to value, for the versions put here (a rotation's value is random: checked to decrypt, and the same from both handles). */
      const known = new Map<number, string>();
      for (let i = 0; i < 4; i++) known.set((await writer.put(NAME, `fake-value-${i}`)).version, `fake-value-${i}`);
      const runner = createRotationRunner({ store: writer, logger: false });
      let writing = true;
      const writes = (async () => {
        for (let round = 0; round < 4; round++) {
          const put = await writer.put(NAME, `fake-put-${round}`);
          known.set(put.version, `fake-put-${round}`);
          const rotated = await runner.run(NAME, randomSecret({ length: 24 }));
          assert.equal(rotated.outcome, 'finished', rotated.error?.message);
        }
        writing = false;
      })();
      let batches = 0;
      /** Every version's bytes as first read: later reads, from either handle, must agree. */
      const seen = new Map<number, string>();
      const reads = (async () => {
        // Until a batch that began after the last write: it reads every version.
        for (let last = false; !last; ) {
          last = !writing;
          const versions = (await reader.versions(NAME)).filter((v) => v.state === 'enabled').map((v) => v.version);
          // The same versions through both handles at once; every caller zeroes its copy as soon as it has read it.
          const got = await Promise.all(
            [reader, writer, reader, writer].flatMap((store) =>
              versions.map(async (version) => {
                const { value } = await store.access(NAME, version);
                const copy = text(value);
                value.fill(0);
                return { version, copy };
              }),
            ),
          );
          for (const { version, copy } of got) {
            const expected = seen.get(version);
            if (expected !== undefined) assert.equal(copy, expected, `version ${version} read back different bytes`);
            else assert.match(copy, /^(fake-(value|put)-\d+|[A-Za-z0-9_-]{24})$/, `version ${version}`);
            seen.set(version, copy);
          }
          batches++;
        }
      })();
      await Promise.all([writes, reads]);
      for (const [version, value] of known) assert.equal(seen.get(version), value, `version ${version} holds what was put`);
      const final = await writer.versions(NAME);
      assert.equal(final.at(-1)?.version, 4 + 4 * 2, 'each round put one version and a rotation one more');
      t.diagnostic(`${batches} batches of parallel reads while ${final.length - 4} versions were written`);
    } finally {
      await Promise.all([writer.close(), reader.close()]);
      await env.cleanup();
    }
  });

  it('close() while parallel reads are in flight: each read returns its value; reads after it are refused as closed', async () => {
    const env = await tempStore();
    try {
      const setup = await openLocalStore({ dir: env.dir, masterKey: env.key });
      for (let i = 0; i < 5; i++) await setup.put(NAME, `fake-value-${i}`);
      await setup.close();
      for (let attempt = 0; attempt < 20; attempt++) {
        const store = await openLocalStore({ dir: env.dir, masterKey: env.key, create: false });
        const versions = (await store.versions(NAME)).map((v) => v.version);
        const inFlight = Promise.allSettled([
          ...versions.map((version) => store.access(NAME, version)),
          store.getSecret(NAME),
          store.list(),
        ]);
        // What `try { return Promise.all(reads) } finally { await store.close() }` does: the close starts before the reads end.
        const closing = store.close();
        const settled = await inFlight;
        await closing;
        for (const [i, outcome] of settled.entries()) {
          if (outcome.status === 'rejected') {
            const code = outcome.reason instanceof KeyshiftError ? outcome.reason.code : String(outcome.reason);
            assert.fail(`read ${i} begun before close() failed with ${code}`);
          }
        }
        const values = settled.slice(0, versions.length).map((outcome) => {
          const { value } = (outcome as PromiseFulfilledResult<{ value: Uint8Array }>).value;
          return text(value);
        });
        assert.deepEqual(values, versions.map((_, i) => `fake-value-${i}`));
        await assert.rejects(store.access(NAME, 1), (error: unknown) => error instanceof KeyshiftError && error.code === ErrorCodes.CLOSED);
        await assert.rejects(store.versions(NAME), (error: unknown) => error instanceof KeyshiftError && error.code === ErrorCodes.CLOSED);
      }
    } finally {
      await env.cleanup();
    }
  });
});
