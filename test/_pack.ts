// Packs keyshift the way `npm pack` would, without touching the repository's dist/ (other
// tests run bin/keyshift.mjs, which prefers a build): builds into a staging copy of the
// package's `files`, and packs that with `npm pack --json`.
import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess } from './_process.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Packed {
  tarball: string;
  /** Compressed size in bytes. */
  size: number;
  files: string[];
}

/** Runs `command` to exit 0 or throws with what it printed. */
export async function mustRun(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const run = await runProcess(command, args, { cwd, env }).done;
  if (run.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  return run.stdout;
}

/** An environment without the test runner's NODE_OPTIONS (--import tsx resolves from the cwd). */
export function cleanEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _, ...env } = process.env;
  return env;
}

export async function packKeyshift(work: string): Promise<Packed> {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  const stage = join(work, 'stage');
  await mkdir(stage, { recursive: true });
  await mustRun(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], ROOT, cleanEnv());
  await cp(join(ROOT, 'package.json'), join(stage, 'package.json'));
  for (const entry of pkg.files) if (entry !== 'dist') await cp(join(ROOT, entry), join(stage, entry), { recursive: true });
  const out = await mustRun('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], stage, cleanEnv());
  const [info] = JSON.parse(out) as Array<{ filename: string; size: number; files: Array<{ path: string }> }>;
  if (!info) throw new Error('npm pack printed nothing');
  return { tarball: join(work, info.filename), size: info.size, files: info.files.map((f) => f.path) };
}
