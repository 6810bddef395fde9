// Runs `npm install` when node_modules is missing or older than package.json,
// so `npm start` and `npm test` work right after a clone.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package.json').mtimeMs;
if (stale) {
  console.error('keyshift: installing dependencies (first run)...');
  // `npm install` (not `npm ci`): it honours package-lock.json, and unlike `npm ci`
  // it does not fail when the registry lacks an optional platform package that the
  // lock never recorded (seen with @biomejs/cli-* for other platforms).
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
