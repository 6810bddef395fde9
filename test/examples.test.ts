import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openLocalStore } from 'keyshift/local-store';
import ts from 'typescript';
import { runProcess } from './_process.ts';
import { readmeSnippet } from './_readme.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('README quick start', () => {
  it('is examples/quickstart.ts, word for word (so the tests and the packed-install test run what the README shows)', () => {
    assert.equal(readmeSnippet('quick-start'), readFileSync(join(ROOT, 'examples/quickstart.ts'), 'utf8'));
  });

  it('examples/quickstart.ts runs against a local store and prints no secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-qs-'));
    try {
      const store = await openLocalStore({ dir: join(dir, '.keyshift/store') });
      const apiKey = `canary-${Math.random().toString(36).slice(2)}`;
      await store.put('PAYMENTS_API_KEY', apiKey);
      await store.put('PAYMENTS_URL', 'http://127.0.0.1:9/');
      await store.put('FLAT_FEE', '1.25');
      await store.put('SESSION_SIGNING_KEY', 's'.repeat(40));
      await store.close();
      // run from the store's directory, as a service would; tsx and the paths of tsconfig.json from the repository
      const { NODE_OPTIONS: _, ...env } = process.env;
      const run = await runProcess(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'examples/quickstart.ts')], {
        cwd: dir,
        env: { ...env, TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json') },
      }).done;
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, '[redacted] 2.5\n');
      assert.ok(!`${run.stdout}${run.stderr}`.includes(apiKey));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('README snippets', () => {
  it('every ts block of the README and the adopter pages typechecks against the sources (strict, the repository tsconfig)', () => {
    const pages = ['README.md', 'docs/local-development.md', 'docs/adoption.md', 'docs/rotation.md', 'docs/sources/dotenv.md', 'docs/sources/env.md', 'docs/sources/file.md', 'docs/sources/memory.md', 'docs/opentelemetry.md'];
    // a block right after `<!-- fragment -->` is a fragment (it uses names from its prose) and is not compiled
    const blocksOf = (page: string) =>
      [...readFileSync(join(ROOT, page), 'utf8').matchAll(/(<!-- fragment -->\n)?```ts\n([\s\S]*?)```/g)].filter((m) => !m[1]).map((m) => m[2] ?? '');
    // docs/core.md tells one story: its blocks continue each other, so they check as one module
    const blocks = [...pages.flatMap(blocksOf), `import type { Server } from 'node:http';\ndeclare const server: Server;\n${blocksOf('docs/core.md').join('\n')}`];
    assert.ok(blocks.length >= 10, 'found the snippets');
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    assert.ok(config);
    // each block is its own module (.mts: top-level await), next to the repository's sources
    const dir = join(ROOT, 'node_modules/.cache/keyshift-readme');
    mkdirSync(dir, { recursive: true });
    const files = blocks.map((code, i) => {
      const file = join(dir, `block-${i}.mts`);
      writeFileSync(file, code);
      return file;
    });
    const program = ts.createProgram(files, { ...config.options, noEmit: true });
    const diagnostics = ts.getPreEmitDiagnostics(program).filter((d) => d.file && files.includes(d.file.fileName));
    const text2 = diagnostics.map((d) => `${d.file?.fileName.slice(dir.length + 1)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    assert.deepEqual(text2, []);
  });
});
