// The type tests (test/types/*.ts) compiled with the project's options: keyshift is
// sold on its inferred types, so a regression there must fail the suite. `tsc -p
// tsconfig.json` (npm run check) compiles them too; this runs them with the tests and
// proves the harness notices a wrong expectation and an @ts-expect-error that no
// longer errs.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';

const config = ts.getParsedCommandLineOfConfigFile(resolve('tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
if (!config) throw new Error('tsconfig.json could not be read');
const typeTests = readdirSync('test/types')
  .filter((name) => name.endsWith('.ts') && !name.startsWith('_'))
  .map((name) => resolve('test/types', name));
// A control file next to the type tests (the tsconfig's paths resolve from there).
const scratch = mkdtempSync(join(resolve('test/types'), '.control-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const control = join(scratch, 'control.ts');
writeFileSync(
  control,
  [
    "import { defineSecrets, t, type ValueOf } from 'keyshift';",
    "import { type Equal, expectType } from '../_expect.ts';",
    'const d = defineSecrets({ A: { type: t.int() } });',
    "expectType<Equal<ValueOf<(typeof d)['A']>, string>>();",
    '// @ts-expect-error nothing is wrong below',
    'const n: number = 1;',
    'void n;',
    '',
  ].join('\n'),
);

const program = ts.createProgram([...typeTests, control], { ...config.options, noEmit: true });
const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => process.cwd(), getNewLine: () => '\n' };
const diagnosticsOf = (file: string): readonly ts.Diagnostic[] => {
  const source = program.getSourceFile(file);
  assert.ok(source, `${file} is not in the program`);
  return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
};

describe('Type tests (test/types)', () => {
  it('there are type tests for declarations, get/static, codecs, Secret<T> and the adapters', () => {
    for (const name of ['declarations.ts', 'keyshift.ts', 'codecs.ts', 'secret.ts', 'adapters.ts', 'channels.ts']) {
      assert.ok(typeTests.includes(resolve('test/types', name)), `test/types/${name} is missing`);
    }
  });

  for (const file of typeTests) {
    it(`${file.slice(process.cwd().length + 1)} compiles: every expectation holds, every @ts-expect-error errs`, () => {
      const diagnostics = diagnosticsOf(file);
      assert.equal(diagnostics.length, 0, ts.formatDiagnostics(diagnostics, host));
    });
  }

  it('the harness notices a wrong expectation and an @ts-expect-error that no longer errs', () => {
    const codes = diagnosticsOf(control).map((d) => d.code);
    assert.ok(codes.includes(2344), `a false Equal<> must fail (TS2344); got ${codes.join(', ')}`);
    assert.ok(codes.includes(2578), `an unused @ts-expect-error must fail (TS2578); got ${codes.join(', ')}`);
  });
});
