import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildInventory } from '../_inventory.ts';
import { formatInventory, problemLine } from '../_inventory-format.ts';
import { parseCommandArgs } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';

const OPTIONS = {
  json: { type: 'boolean', default: false },
  markdown: { type: 'boolean', default: false },
} as const;

/**
 * `keyshift inventory PATH`: the secret table of a service catalog, checked against the
 * policy. Exits 0 when every declaration passes, 1 when one breaks the policy or the
 * catalog's conventions (each problem names service, secret and rule on stderr).
 */
export const inventory = defineCommand({
  name: 'inventory',
  summary: 'the secrets of a service catalog: category, services, static/dynamic, TTL, policy verdict',
  usage: 'keyshift inventory PATH [--json | --markdown]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('inventory', args, OPTIONS, ['PATH']);
    if (values.json && values.markdown) throw new UsageError('--json and --markdown exclude each other');
    const root = resolve(io.cwd, positionals[0] as string);
    const isDir = await stat(root).then((s) => s.isDirectory(), () => false);
    if (!isDir) throw new UsageError('PATH must be a directory of declaration modules');
    const result = await buildInventory(root);
    io.stdout.write(`${formatInventory(result, values.json ? 'json' : values.markdown ? 'markdown' : 'table')}\n`);
    for (const problem of result.problems) io.stderr.write(`keyshift inventory: ${problemLine(problem)}\n`);
    return result.problems.length === 0 ? ExitCode.OK : ExitCode.FAILURE;
  },
});
