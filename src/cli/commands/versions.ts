import { STORE_OPTIONS, parseCommandArgs } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { formatTable, writeJson } from '../_output.ts';
import { withCliStore } from '../_store.ts';

/** `keyshift versions NAME`: every version with its state and creation time; no values. */
export const versions = defineCommand({
  name: 'versions',
  summary: 'list the versions of a secret and their states',
  usage: 'keyshift versions NAME [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('versions', args, STORE_OPTIONS, ['NAME']);
    const list = await withCliStore(values, io, false, (store) => store.versions(positionals[0]!));
    if (values.json) writeJson(io, list);
    else io.stdout.write(formatTable(['VERSION', 'STATE', 'CREATED'], list.map((v) => [String(v.version), v.state, v.createTime])));
    return ExitCode.OK;
  },
});
