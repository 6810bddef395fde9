import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  dependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
};

describe('Package', () => {
  it('every export maps to a source file that exists (dist/x.js <- src/x.ts)', () => {
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      const src = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      assert.ok(existsSync(src), `${subpath}: ${src} is missing`);
      assert.equal(target.types, target.default.replace(/\.js$/, '.d.ts'), `${subpath}: types and default disagree`);
    }
  });

  it('keeps the core light: two runtime dependencies, cloud clients and pg as optional peers', () => {
    assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['@standard-schema/spec', 'big.js']);
    for (const peer of ['@google-cloud/secret-manager', '@aws-sdk/client-secrets-manager', 'pg', 'prom-client']) {
      assert.equal(pkg.peerDependenciesMeta[peer]?.optional, true, peer);
    }
  });

  it('the core entry point imports no optional peer, directly or transitively', () => {
    const external = new Set<string>();
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/^(?:import|export)\s(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
        if (!spec) continue;
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec));
        else external.add(spec);
      }
    };
    walk(resolve('src/index.ts'));
    assert.ok(seen.size > 10, 'walked the core');
    const allowed = ['big.js', 'node:'];
    for (const spec of external) assert.ok(allowed.some((a) => spec.startsWith(a)), `core imports ${spec}`);
  });
});
