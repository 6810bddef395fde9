import { STORE_OPTIONS, parseCommandArgs } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { writeJson } from '../_output.ts';
import { withCliStore } from '../_store.ts';

const REDACTED = '[redacted]';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The value for --json --reveal: text when it is UTF-8, base64 otherwise. */
function revealedJson(value: Uint8Array): { value: string } | { valueBase64: string } {
  try {
    return { value: utf8.decode(value) };
  } catch {
    return { valueBase64: Buffer.from(value).toString('base64') };
  }
}

/**
 * `keyshift get NAME`: proves the version decrypts and says which it is, printing
 * `[redacted]`; only `--reveal` prints the value (exactly its bytes, no newline added).
 */
export const get = defineCommand({
  name: 'get',
  summary: 'show a version of a secret (redacted unless --reveal)',
  usage: 'keyshift get NAME [--version V] [--reveal] [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      'get',
      args,
      { ...STORE_OPTIONS, version: { type: 'string', default: 'latest' }, reveal: { type: 'boolean', default: false } },
      ['NAME'],
    );
    const result = await withCliStore(values, io, false, (store) => store.access(positionals[0]!, values.version));
    try {
      if (values.json) {
        const shown = values.reveal ? revealedJson(result.value) : { value: REDACTED };
        writeJson(io, { name: result.name, version: result.version, ...shown });
      } else if (values.reveal) {
        io.stdout.write(result.value);
      } else {
        io.stdout.write(`${result.name} version ${result.version}: ${REDACTED} (--reveal prints the value)\n`);
      }
      return ExitCode.OK;
    } finally {
      result.value.fill(0);
    }
  },
});
