import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crossPartPrivateImports, importCycles, importsOf, privateImportsFromOutside, readImportGraph } from './_import-graph.ts';

const graph = readImportGraph('src');

describe('Architecture: the import graph of src/', () => {
  it('the reader finds every kind of relative import, type imports included, and skips comments', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from '../b/_b.ts';",
      "export { c } from './c/c.ts';",
      "export type { D } from './d.ts';",
      "import './side-effect.ts';",
      "const e = await import('./e.ts');",
      "import { f } from 'node:fs';",
      "// import { g } from './commented.ts';",
      "/** import { h } from './doc.ts'; */",
    ].join('\n');
    assert.deepEqual(importsOf(text), ['./a.ts', '../b/_b.ts', './c/c.ts', './d.ts', './side-effect.ts', './e.ts']);
  });

  it('the checks find what they look for (a private import from outside, a cycle)', () => {
    const fixture = new Map([
      ['a/x.ts', ['a/_h.ts', 'b/_p.ts']],
      ['a/sub/y.ts', ['a/_h.ts']],
      ['a/_h.ts', []],
      ['b/_p.ts', ['b/q.ts']],
      ['b/q.ts', ['b/_p.ts']],
      ['b/deep/_z.ts', []],
      ['b/r.ts', ['b/deep/_z.ts']],
    ]);
    assert.deepEqual(privateImportsFromOutside(fixture), ['a/x.ts -> b/_p.ts', 'b/r.ts -> b/deep/_z.ts']);
    assert.deepEqual(crossPartPrivateImports(fixture), ['a/x.ts -> b/_p.ts']);
    assert.deepEqual(importCycles(fixture), [['b/_p.ts', 'b/q.ts']]);
  });

  it('reads the whole tree (every part is there)', () => {
    for (const file of ['index.ts', 'core/manager.ts', 'rotation/pg/pg-pool.ts', 'rotation/keyring/hmac-keyring.ts', 'rotation/staged/rotator.ts', 'gcp/resource-names.ts']) {
      assert.ok(graph.has(file), `${file} was not read`);
    }
    assert.ok(graph.size > 150, `only ${graph.size} files read`);
  });

  it('no file imports a private (_) file from outside that file\'s folder', () => {
    const found = privateImportsFromOutside(graph);
    assert.deepEqual(
      found,
      [],
      `a _file is private to its folder (and the folders below it); import what it offers through a file named for it, or move the helper to the folder both share:\n  ${found.join('\n  ')}`,
    );
    assert.deepEqual(crossPartPrivateImports(graph), []);
  });

  it('no import cycle, type imports included', () => {
    const cycles = importCycles(graph);
    assert.deepEqual(cycles, [], `files that import each other in a circle:\n  ${cycles.map((c) => c.join(' <-> ')).join('\n  ')}`);
  });

  it('production code never reaches into the emulator; rotation never imports admin', () => {
    const offenders: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        const part = from.split('/')[0];
        if ((part === 'sources' || part === 'rotation' || part === 'core' || part === 'gcp' || part === 'http') && to.startsWith('emulator/')) offenders.push(`${from} -> ${to}`);
        if (part === 'rotation' && to.startsWith('admin/')) offenders.push(`${from} -> ${to}`);
        if ((part === 'gcp' || part === 'http') && /^(sources|rotation|admin)\//.test(to)) offenders.push(`${from} -> ${to}`);
      }
    }
    assert.deepEqual(offenders, [], `imports against the tree's direction:\n  ${offenders.join('\n  ')}`);
  });

  it('consuming and producing rotation stay apart: pg/ and keyring/ import nothing from staged/', () => {
    const offenders = [...graph]
      .filter(([from]) => from.startsWith('rotation/pg/') || from.startsWith('rotation/keyring/'))
      .flatMap(([from, targets]) => targets.filter((to) => to.startsWith('rotation/staged/')).map((to) => `${from} -> ${to}`));
    assert.deepEqual(offenders, []);
  });
});
