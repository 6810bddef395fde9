// Runs every *.test.ts under test/ with node's test runner, through tsx, with
// unhandled rejections fatal. Pass file or folder names to run a subset.
//
// Coverage: with KEYSHIFT_COVERAGE=1, or in CI (CI=true, unless KEYSHIFT_COVERAGE=0),
// V8 collects coverage of src/ in every process the tests start (NODE_V8_COVERAGE)
// and c8 reports it; a run of the whole suite then fails when a figure drops under the
// thresholds in .c8rc.json (a subset only reports).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith('.test.ts')) out.push(path);
  return out;
}
const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap((r) => collect(r, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const coverage = process.env.KEYSHIFT_COVERAGE === '1' || (process.env.CI === 'true' && process.env.KEYSHIFT_COVERAGE !== '0');
const coverageDir = coverage ? mkdtempSync(join(tmpdir(), 'keyshift-coverage-')) : undefined;
const env = {
  ...process.env,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx --unhandled-rejections=strict`.trim(),
  ...(coverageDir ? { NODE_V8_COVERAGE: coverageDir } : {}),
  // No test machine is on Google Cloud, and the tests meet Google only through emulators.
  // google-gax asks google-auth-library for the universe domain on every client, even
  // with the emulator's insecure credentials, and that probes the metadata server: a
  // MetadataLookupWarning per client on a machine without one. keyshift's own project
  // lookup (src/gcp/metadata.ts) does not read this variable.
  METADATA_SERVER_DETECTION: process.env.METADATA_SERVER_DETECTION ?? 'none',
};
const r = spawnSync(
  process.execPath,
  // A per-file bound, not a speed check: coverage and the slower Node versions stretch
  // the runbook and fleet files (they spawn dozens of processes) on a loaded 2-core machine.
  ['--test', '--test-concurrency=2', '--test-timeout=600000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env },
);
let status = r.status ?? 1;
if (coverageDir) {
  const { NODE_V8_COVERAGE: _, ...plain } = process.env;
  const args = ['report', '--temp-directory', coverageDir, ...(roots.length ? ['--check-coverage=false'] : [])];
  const report = spawnSync(join('node_modules', '.bin', process.platform === 'win32' ? 'c8.cmd' : 'c8'), args, { stdio: 'inherit', env: plain });
  if (report.status !== 0 && status === 0) {
    console.error('coverage fell under the thresholds in .c8rc.json: add tests for what the change left uncovered');
    status = report.status ?? 1;
  }
  rmSync(coverageDir, { recursive: true, force: true });
}
process.exit(status);
