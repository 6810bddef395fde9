import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { masterKeyGitAdvice } from '../../local-store/gitignore.ts';
import { MASTER_KEY_ENV, MASTER_KEY_FILE } from '../../local-store/master-key.ts';
import { parseCommandArgs, STORE_OPTIONS } from '../_args.ts';
import { defineCommand, ExitCode } from '../_command.ts';
import { UsageError } from '../_errors.ts';
import { writeJson } from '../_output.ts';
import { cliStoreDir, withCliStore } from '../_store.ts';

/**
 * `keyshift init`: creates the local store (and its master.key) if needed, and says whether
 * git would commit the key. With --gitignore it adds the line that ignores the store to
 * the repository's .gitignore: the only way keyshift ever writes a .gitignore.
 */
export const init = defineCommand({
  name: 'init',
  summary: 'create the local store and its master key; --gitignore adds the store to .gitignore',
  usage: 'keyshift init [--gitignore] [--store DIR] [--json]',
  async run(args, io) {
    const { values } = parseCommandArgs('init', args, { ...STORE_OPTIONS, gitignore: { type: 'boolean', default: false } }, []);
    if (values.store?.includes('://')) throw new UsageError('keyshift init creates a local store directory; a gcp:// or aws:// store needs no init (keyshift doctor --store checks that it is reachable)');
    const dir = cliStoreDir(values.store, io);
    const secrets = await withCliStore({ store: values.store }, io, true, async (store) => (await store.list()).length);
    const keyFile = join(dir, MASTER_KEY_FILE);
    const advice = io.env[MASTER_KEY_ENV] ? undefined : await masterKeyGitAdvice(keyFile);
    let added = false;
    if (advice && values.gitignore) {
      const before = await readFile(advice.gitignore, 'utf8').catch(() => '');
      const separator = before === '' || before.endsWith('\n') ? '' : '\n';
      await appendFile(advice.gitignore, `${separator}# keyshift local store (its master.key decrypts it)\n${advice.line}\n`);
      added = true;
    }
    if (values.json) {
      writeJson(io, { store: dir, secrets, gitignore: advice ? { file: advice.gitignore, line: advice.line, added } : null });
      return advice && !added ? ExitCode.FAILURE : ExitCode.OK;
    }
    io.stdout.write(`local store ${dir}: ${secrets} secrets\n`);
    if (!advice) {
      io.stdout.write('git: the master key is not in a repository, or is already ignored\n');
      return ExitCode.OK;
    }
    if (added) {
      io.stdout.write(`git: added ${advice.line} to ${advice.gitignore}\n`);
      return ExitCode.OK;
    }
    io.stdout.write(`git: ${keyFile} would be committed. Add this line to ${advice.gitignore}:\n  ${advice.line}\nor run: keyshift init --gitignore --store ${dir}\n`);
    return ExitCode.FAILURE;
  },
});
