/**
 * Keeps docs/test-plan.md true: every numbered test of the reliability plan (§4) has at
 * least one test titled "Plan N:" under test/, or a "### Plan N:" bench scenario that
 * bench/run.ts runs, and the page matches the live titles.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadPlan, PAGE, planFromPage, ROOT, renderPage, scanCoverage } from '../../scripts/test-plan.ts';

describe('The test plan mapping (docs/test-plan.md)', () => {
  const plan = loadPlan();
  const coverage = scanCoverage();

  it('reads the 36 numbered plan tests (1-40 without 7, 11, 16 and 39)', () => {
    const expected = Array.from({ length: 40 }, (_, i) => i + 1).filter((n) => ![7, 11, 16, 39].includes(n));
    assert.deepEqual(
      plan.map((p) => p.n),
      expected,
    );
    // the page carries the same list, for a checkout without the reference
    assert.deepEqual(planFromPage(readFileSync(PAGE, 'utf8')), plan);
  });

  it('finds at least one "Plan N:" test or bench scenario for every plan number', () => {
    const missing = plan.filter((p) => (coverage.get(p.n) ?? []).length === 0).map((p) => `${p.n} (${p.title})`);
    assert.deepEqual(missing, [], `plan tests with no "Plan N:" test title or bench heading: ${missing.join('; ')}`);
  });

  it('names only bench scripts that bench/run.ts runs', () => {
    const run = readFileSync(join(ROOT, 'bench/run.ts'), 'utf8');
    const listed = /const scripts = \[([^\]]*)\]/.exec(run)?.[1] ?? '';
    for (const list of coverage.values()) {
      for (const c of list.filter((x) => x.kind === 'bench')) {
        const name = /^bench\/([\w-]+)\.ts$/.exec(c.file)?.[1] ?? c.file;
        assert.ok(listed.includes(`'${name}'`), `${c.file} holds ${c.title} but bench/run.ts does not run it`);
      }
    }
  });

  it('matches the page: regenerate with `npx tsx scripts/test-plan.ts` after renaming a plan test', () => {
    const page = readFileSync(PAGE, 'utf8').split('\n');
    const live = renderPage(plan, coverage).split('\n');
    // name the differing lines only: the whole page in a failure message hides them
    const stale = page.filter((line) => !live.includes(line)).map((line) => `- ${line}`);
    const fresh = live.filter((line) => !page.includes(line)).map((line) => `+ ${line}`);
    assert.deepEqual([...stale, ...fresh], [], 'docs/test-plan.md is out of date');
    assert.deepEqual(page, live, 'docs/test-plan.md is out of order');
  });
});
