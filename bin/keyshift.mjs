#!/usr/bin/env node
// The `keyshift` command. From a build it runs dist/cli/main.js; from a source checkout
// (no dist/) it registers tsx and runs src/cli/main.ts, so `npx keyshift` works right
// after a clone.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
let cli;
if (existsSync(built)) {
  cli = await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
await cli.runCli(process.argv.slice(2));
