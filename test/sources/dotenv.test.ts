import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { dotenv } from '../../src/sources/dotenv.ts';
import { testSource } from './_conformance.ts';

/** Writes a .env file the way people do: KEY=value, quoted when it needs to be. */
function serialize(vars: ReadonlyMap<string, string>): string {
  const lines = ['# written by the test', ''];
  for (const [name, value] of vars) {
    lines.push(/^[\w./:@+-]*$/.test(value) ? `${name}=${value}` : `${name}="${value.replaceAll('\n', '\\n')}"`);
  }
  return `${lines.join('\n')}\n`;
}

testSource('dotenv', {
  capabilities: { write: true, watch: true, sizeCap: false, ordered: false },
  async setup() {
    const dir = await mkdtemp(join(tmpdir(), 'ks-dotenv-'));
    const vars = new Map<string, string>();
    const path = join(dir, '.env');
    return {
      source: dotenv({ path }),
      put: async (name, value) => {
        vars.set(name, value);
        await writeFile(path, serialize(vars));
      },
      teardown: () => rm(dir, { recursive: true, force: true }),
    };
  },
});

describe('dotenv source', () => {
  const opts = { signal: new AbortController().signal, maxBytes: 65536 };

  it("parses with Node's parser: comments, quotes, escaped newlines, a prefix; a missing file or variable is not found", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-dotenv-'));
    try {
      const path = join(dir, '.env');
      const source = dotenv({ path, prefix: 'APP_' });
      assert.equal(await source.get('A', opts), undefined, 'no file yet');
      await writeFile(path, '# comment\nAPP_A=plain\nAPP_B="two\\nlines"\nAPP_C=\'single # not a comment\'\nOTHER=x\n');
      assert.equal((await source.get('A', opts))?.value, 'plain');
      assert.equal((await source.get('B', opts))?.value, 'two\nlines');
      assert.equal((await source.get('C', opts))?.value, 'single # not a comment');
      assert.equal(await source.get('OTHER', opts), undefined, 'the prefix applies');
      assert.match(source.locate?.('A') ?? '', /^variable APP_A of .*\.env$/);
      assert.equal(process.env.APP_A, undefined, 'never copied into process.env');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a manager reads typed values from it, and serves an edit of the file without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-dotenv-'));
    const path = join(dir, '.env');
    await writeFile(path, 'PAYMENTS_URL=http://localhost:4000/\nFLAT_FEE=1.25\n');
    const ks = createKeyshift(
      defineSecrets({ PAYMENTS_URL: { type: t.url(), category: 'service-url' }, FLAT_FEE: { type: t.decimal(), category: 'app-config' } }),
      { source: dotenv({ path }), logger: false },
    );
    try {
      await ks.ready();
      assert.equal(ks.get('FLAT_FEE').toString(), '1.25');
      const changed = new Promise<string>((done) => ks.on('change', (e) => done(e.name)));
      const hold = setInterval(() => {}, 1000); // keyshift's watcher is unref'd: hold the loop while waiting
      try {
        await writeFile(path, 'PAYMENTS_URL=http://localhost:4000/\nFLAT_FEE=2.50\n');
        assert.equal(await changed, 'FLAT_FEE');
      } finally {
        clearInterval(hold);
      }
      assert.equal(ks.get('FLAT_FEE').toString(), '2.5');
    } finally {
      await ks.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
