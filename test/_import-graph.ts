// The import graph of a source tree, read from the files' text: every relative
// `import ... from`, `export ... from`, bare `import '...'` and `import('...')`, type
// imports included. Used by test/architecture.test.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';

/** File (relative to the root, `/`-separated) -> the files it imports (same form). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;

/** The relative specifiers a module's text imports, comments stripped first. */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...code.matchAll(SPECIFIER)].map((m) => m[1]!);
}

/** Reads every .ts file under `root`. */
export function readImportGraph(root: string): ImportGraph {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) {
        const from = relative(root, path).split(sep).join('/');
        const targets = importsOf(readFileSync(path, 'utf8')).map((spec) => relative(root, resolve(dirname(path), spec)).split(sep).join('/'));
        graph.set(from, targets);
      }
    }
  };
  walk(root);
  return graph;
}

/**
 * The imports of a private file (`_name.ts`) from outside the folder it lives in:
 * a `_` file may be imported from its own folder and the folders below it only.
 */
export function privateImportsFromOutside(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) {
      if (!posix.basename(to).startsWith('_')) continue;
      const home = posix.dirname(to);
      const inside = home === '.' || posix.dirname(from) === home || from.startsWith(`${home}/`);
      if (!inside) found.push(`${from} -> ${to}`);
    }
  }
  return found;
}

/** The first folder of a path: the part a file belongs to (`(root)` for src/*.ts). */
export const partOf = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '(root)');

/** Private imports that cross from one part (top folder) into another. */
export function crossPartPrivateImports(graph: ImportGraph): string[] {
  return privateImportsFromOutside(graph).filter((edge) => {
    const [from, to] = edge.split(' -> ') as [string, string];
    return partOf(from) !== partOf(to);
  });
}

/** Every import cycle (strongly connected set of more than one file, or a file importing itself), sorted. */
export function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const members: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        members.push(w);
      } while (w !== v);
      if (members.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(members.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}
