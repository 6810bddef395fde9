import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PUBLIC_API_FILE, publicApi, render } from '../scripts/public-api.ts';

// The surface is read by the TypeScript compiler from the sources behind each
// package.json export, so this test needs no build.
const current = publicApi();
const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));

describe('Public surface (etc/public-api.txt)', () => {
  it('every export of every subpath is recorded, with its kind', () => {
    const recorded = lines(readFileSync(PUBLIC_API_FILE, 'utf8'));
    const added = current.filter((line) => !recorded.includes(line));
    const removed = recorded.filter((line) => !current.includes(line));
    assert.ok(
      added.length === 0 && removed.length === 0,
      `the public surface changed; if that is intended, run \`npx tsx scripts/public-api.ts --write\` and commit ${PUBLIC_API_FILE}\n` +
        `  added:\n    ${added.join('\n    ') || '(none)'}\n  removed:\n    ${removed.join('\n    ') || '(none)'}`,
    );
    assert.equal(render(current), readFileSync(PUBLIC_API_FILE, 'utf8'), `${PUBLIC_API_FILE} is out of order: run \`npx tsx scripts/public-api.ts --write\``);
  });

  it('covers every subpath in package.json exports', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, unknown> };
    const subpaths = new Set(current.map((line) => line.split('\t')[0]));
    for (const subpath of Object.keys(pkg.exports).filter((s) => s !== './package.json')) {
      assert.ok(subpaths.has(subpath === '.' ? 'keyshift' : `keyshift/${subpath.slice(2)}`), `${subpath} exports nothing`);
    }
  });

  it('the root offers what an application uses, not the internals or other parts\' defaults', () => {
    const root = new Set(current.filter((line) => line.startsWith('keyshift\t')).map((line) => line.split('\t')[1]));
    for (const name of ['defineSecrets', 'createKeyshift', 't', 'Secret', 'reveal', 'KeyshiftError', 'ErrorCodes', 'StaleSecretError', 'DEFAULT_TTL_MS_BY_CATEGORY']) {
      assert.ok(root.has(name), `keyshift should export ${name}`);
    }
    for (const name of ['checkEntry', 'resolveEntry', 'backoffDelay', 'jittered', 'validateWith', 'toKeyshiftError', 'LATENCY_SAMPLES', 'DEFAULT_ADMIN_PORT', 'DEFAULT_PG_DRAIN_TIMEOUT_MS']) {
      assert.ok(!root.has(name), `keyshift should not export ${name}`);
    }
    const kinds = new Map(current.map((line) => [line.split('\t').slice(0, 2).join(' '), line.split('\t')[2]]));
    assert.equal(kinds.get('keyshift defineSecrets'), 'function');
    assert.equal(kinds.get('keyshift Secret'), 'class');
    assert.equal(kinds.get('keyshift Keyshift'), 'interface');
    assert.equal(kinds.get('keyshift/admin DEFAULT_ADMIN_PORT'), 'const');
  });
});
