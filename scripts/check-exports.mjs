// After `tsc -p tsconfig.build.json`: every target of package.json "exports" (and the
// bin) must exist in the build, and every built part folder must be exported.
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const missing = [];
for (const [subpath, target] of Object.entries(pkg.exports)) {
  const files = typeof target === 'string' ? [target] : Object.values(target);
  for (const file of files) if (!existsSync(file)) missing.push(`${subpath} -> ${file}`);
}
for (const bin of Object.values(pkg.bin)) if (!existsSync(bin)) missing.push(`bin -> ${bin}`);
if (missing.length) {
  console.error(`exports point at files the build did not produce:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log(`exports ok: ${Object.keys(pkg.exports).length} subpaths`);
