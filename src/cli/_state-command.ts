import type { LocalStore } from '../local-store/store.ts';
import { STORE_OPTIONS, parseCommandArgs, parseVersionArg } from './_args.ts';
import { type Command, ExitCode, defineCommand } from './_command.ts';
import { writeJson } from './_output.ts';
import { withCliStore } from './_store.ts';

type StateMethod = 'enableVersion' | 'disableVersion' | 'destroyVersion';

/** `keyshift enable|disable|destroy NAME VERSION`: one command per state change. */
export function stateCommand(name: string, summary: string, method: StateMethod): Command {
  return defineCommand({
    name,
    summary,
    usage: `keyshift ${name} NAME VERSION [--store DIR] [--json]`,
    async run(args, io) {
      const { values, positionals } = parseCommandArgs(name, args, STORE_OPTIONS, ['NAME', 'VERSION']);
      const version = parseVersionArg(positionals[1]!);
      const info = await withCliStore(values.store, io, false, (store: LocalStore) => store[method](positionals[0]!, version));
      if (values.json) writeJson(io, info);
      else io.stdout.write(`${info.name} version ${info.version}: ${info.state}\n`);
      return ExitCode.OK;
    },
  });
}
