import { STORE_OPTIONS, parseCommandArgs, parseVersionArg } from './_args.ts';
import { type Command, ExitCode, defineCommand } from './_command.ts';
import { writeJson } from './_output.ts';
import { type CliStore, withCliStore } from './_store.ts';

type StateMethod = 'enableVersion' | 'disableVersion' | 'destroyVersion';

/** `keyshift enable|disable|destroy NAME VERSION`: one command per state change. */
export function stateCommand(name: string, summary: string, method: StateMethod): Command {
  return defineCommand({
    name,
    summary,
    usage: `keyshift ${name} NAME VERSION [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]`,
    async run(args, io) {
      const { values, positionals } = parseCommandArgs(name, args, STORE_OPTIONS, ['NAME', 'VERSION']);
      const version = parseVersionArg(positionals[1]!);
      const info = await withCliStore(values, io, false, (store: CliStore) => store[method](positionals[0]!, version));
      if (values.json) writeJson(io, info);
      else io.stdout.write(`${info.name} version ${info.version}: ${info.state}\n`);
      return ExitCode.OK;
    },
  });
}
