// ESLint runs one rule here: keyshift's own policy rule, on the examples (Biome lints
// everything else). `npx eslint examples` must pass; a dynamic read of a private key fails it.
// The plugin is TypeScript in src/, loaded through tsx so no build is needed.
import tsParser from '@typescript-eslint/parser';
import { tsImport } from 'tsx/esm/api';

const { keyshiftPlugin } = await tsImport('./src/lint/index.ts', import.meta.url);

export default [
  {
    files: ['examples/**/*.ts'],
    languageOptions: { parser: tsParser, ecmaVersion: 'latest', sourceType: 'module' },
    plugins: { keyshift: keyshiftPlugin },
    rules: { 'keyshift/no-dynamic-static-secret': 'error' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
];
