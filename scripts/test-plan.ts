/**
 * The map from the reliability test plan (§4 of the reference, numbered 1-40) to the
 * tests and bench scenarios that cover each numbered test, found live by their
 * "Plan N:" titles. `npx tsx scripts/test-plan.ts` rewrites docs/test-plan.md;
 * test/hardening/test-plan.test.ts checks every plan number is covered and the page is
 * current.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The reference (outside the repository: present in the workspace, absent in a bare clone). */
export const REFERENCE = join(ROOT, '../shared/reference/reliability.md');
export const PAGE = join(ROOT, 'docs/test-plan.md');

export interface PlanItem {
  n: number;
  title: string;
  section: string;
}

export interface Coverage {
  file: string;
  title: string;
  kind: 'test' | 'bench';
}

/** Numbered tests of §4 with their section, from the reference text. */
export function planFromReference(text: string): PlanItem[] {
  const start = text.indexOf('## 4.');
  const end = text.indexOf('\n## ', start + 1);
  const body = text.slice(start, end === -1 ? undefined : end);
  const items: PlanItem[] = [];
  let section = '';
  for (const line of body.split('\n')) {
    const heading = /^### ([A-Z])\. (.+?)(?: \(\d+\))?$/.exec(line);
    if (heading) section = `${heading[1]}. ${heading[2]}`;
    const item = /^(\d+)\. \*\*(.+?)\*\*/.exec(line);
    if (item && section) items.push({ n: Number(item[1]), title: (item[2] as string).replace(/\.$/, ''), section });
  }
  return items;
}

/** The same list as the generated page records it (for a checkout without the reference). */
export function planFromPage(text: string): PlanItem[] {
  const items: PlanItem[] = [];
  let section = '';
  for (const line of text.split('\n')) {
    const heading = /^## ([A-Z]\. .+)$/.exec(line);
    if (heading) section = heading[1] as string;
    const item = /^### (\d+)\. (.+)$/.exec(line);
    if (item && section) items.push({ n: Number(item[1]), title: item[2] as string, section });
  }
  return items;
}

export function loadPlan(): PlanItem[] {
  if (existsSync(REFERENCE)) return planFromReference(readFileSync(REFERENCE, 'utf8'));
  return planFromPage(readFileSync(PAGE, 'utf8'));
}

function files(dir: string, match: (path: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files(path, match, out);
    else if (match(path)) out.push(path);
  }
  return out;
}

/** Plan numbers a title names: "Plan 14: ..." or a range "Plan 1-3: ...". */
function numbersOf(spec: string): number[] {
  const [from, to] = spec.split('-').map(Number) as [number, number | undefined];
  if (to === undefined) return [from];
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/**
 * Every "Plan N:" title, live: test titles (describe/it/test) in test/, and bench
 * section headings in bench/.
 */
export function scanCoverage(root = ROOT): Map<number, Coverage[]> {
  const found = new Map<number, Coverage[]>();
  const add = (n: number, c: Coverage) => found.set(n, [...(found.get(n) ?? []), c]);
  const testTitle = /\b(?:describe|it|test)\(\s*(['"`])Plan (\d+(?:-\d+)?): ((?:(?!\1)[^\\]|\\.)*)\1/g;
  for (const path of files(join(root, 'test'), (p) => p.endsWith('.ts'))) {
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(testTitle)) {
      const title = (m[3] as string).replace(/\\(.)/g, '$1').replace(/\$\{[^}]*\}/g, 'N');
      for (const n of numbersOf(m[2] as string)) add(n, { file: relative(root, path), title: `Plan ${m[2]}: ${title}`, kind: 'test' });
    }
  }
  const benchTitle = /### Plan (\d+(?:-\d+)?): ((?:\\`|\$\{[^}]*\}|[^`\\\n])*)/g;
  for (const path of files(join(root, 'bench'), (p) => p.endsWith('.ts'))) {
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(benchTitle)) {
      for (const n of numbersOf(m[1] as string)) add(n, { file: relative(root, path), title: `Plan ${m[1]}: ${(m[2] as string).replace(/\$\{[^}]*\}/g, 'N').replaceAll('\\`', '`').trim()}`, kind: 'bench' });
    }
  }
  return found;
}

/** The page: per section, per plan test, the tests and bench scenarios that cover it. */
export function renderPage(plan: readonly PlanItem[], coverage: ReadonlyMap<number, readonly Coverage[]>): string {
  const out = [
    '# Test plan coverage',
    '',
    'Where each numbered test of the reliability test plan (reference §4; 7, 11, 16 and 39 are not',
    'numbered there) is covered. Generated from the live "Plan N:" test titles and bench headings by',
    '`npx tsx scripts/test-plan.ts`; `test/hardening/test-plan.test.ts` fails when a plan test has no',
    'coverage or this page is out of date. Bench scenarios measure timings (`npm run bench` writes',
    '[benchmarks.md](benchmarks.md)); tests assert behaviour, never timings.',
  ];
  let section = '';
  for (const item of plan) {
    if (item.section !== section) {
      section = item.section;
      out.push('', `## ${section}`);
    }
    out.push('', `### ${item.n}. ${item.title}`, '');
    const list = coverage.get(item.n) ?? [];
    if (list.length === 0) out.push('- **not covered**');
    for (const c of list) out.push(`- ${c.kind === 'bench' ? 'bench ' : ''}\`${c.file}\`: ${c.title.replaceAll('`', "'")}`);
  }
  out.push('', '## Where keyshift and the plan differ', '', ...NOTES.map((note) => `- ${note}`));
  return `${out.join('\n')}\n`;
}

/** Known differences between the plan's bars and what the tests pin, kept next to the map. */
const NOTES = [
  "17: the plan asks for at most 16 fetches in flight at `ready()` and for 77 entries in under 150 ms at 50 ms latency; at 16 in flight that is 5 round trips (250 ms), so keyshift's default bound is higher (`DEFAULT_STARTUP_CONCURRENCY`) and `startupConcurrency: 16` is the opt-in.",
  '18: CI runs the soak for 3 s and asserts handles, warnings and rejections; heap growth and the RSS slope come from `bench/soak.ts --seconds N` runs (docs/benchmarks.md).',
  "25/27: an unknown entry name is named back in the 404, as plan 25 asks, when it reads like a name (`src/core/shown-name.ts`: words of letters in one case or camelCase, with at most a trailing number); a token pasted as a name (a digit inside a word, mixed case) is withheld there, in `get()`/`refresh()` errors and in the agent's 404 and log. The audit line never carries an unknown name.",
  '35: the pin holds within a request (no change between its reads). Entries stored separately land one by one, so a request can start between two of them; values that must change together belong in one JSON entry, which is never seen half-updated.',
];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const plan = loadPlan();
  const coverage = scanCoverage();
  writeFileSync(PAGE, renderPage(plan, coverage));
  const missing = plan.filter((p) => !coverage.has(p.n)).map((p) => p.n);
  console.log(`docs/test-plan.md: ${plan.length} plan tests, ${plan.length - missing.length} covered${missing.length ? `; not covered: ${missing.join(', ')}` : ''}`);
}
