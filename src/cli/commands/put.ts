import { DEFAULT_MAX_VALUE_BYTES } from '../../constants.ts';
import { STORE_OPTIONS, parseCommandArgs } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';
import { writeJson } from '../_output.ts';
import { readValueFromStdin } from '../_stdin.ts';
import { withCliStore } from '../_store.ts';

/** `keyshift put NAME`: a new version from stdin, never from an argument (shell history, ps). */
export const put = defineCommand({
  name: 'put',
  summary: 'store a new version of a secret, read from stdin',
  usage: 'keyshift put NAME [--if-latest N] [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]  < value',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      'put',
      args,
      { ...STORE_OPTIONS, 'if-latest': { type: 'string' } },
      ['NAME'],
      ' (the value is read from stdin, never from an argument)',
    );
    const ifLatestText = values['if-latest'];
    if (ifLatestText !== undefined && !/^(0|[1-9][0-9]{0,15})$/.test(ifLatestText)) {
      throw new UsageError('--if-latest must be a version number (0 when the secret has no version yet)');
    }
    const value = await readValueFromStdin(io, DEFAULT_MAX_VALUE_BYTES);
    try {
      const options = ifLatestText === undefined ? {} : { ifLatest: Number(ifLatestText) };
      const added = await withCliStore(values, io, true, (store) => store.put(positionals[0]!, value, options));
      if (values.json) writeJson(io, added);
      else io.stdout.write(`${added.name}: version ${added.version} added\n`);
      return ExitCode.OK;
    } finally {
      value.fill(0);
    }
  },
});
