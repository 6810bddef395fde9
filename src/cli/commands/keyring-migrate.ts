import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { isKeyset, keysetFromPlainSecret } from '../../rotation/keyring/keyset-from-plain.ts';
import { KID_PATTERN, serializeKeyset } from '../../rotation/keyring/keyset.ts';
import { STORE_OPTIONS, parseCommandArgs } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';
import { writeJson } from '../_output.ts';
import { withCliStore } from '../_store.ts';

/**
 * `keyshift keyring-migrate NAME`: turns a plain signing secret into a keyset for the HMAC
 * keyring, the current value becoming the primary key. Conditional on the latest version
 * (a concurrent writer makes it fail, nothing written); a second run is a no-op.
 */
export const keyringMigrate = defineCommand({
  name: 'keyring-migrate',
  summary: 'turn a plain signing secret into a keyring keyset (the current value becomes the primary key)',
  usage: 'keyshift keyring-migrate NAME [--kid KID] [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]',
  async run(args, io) {
    const { values, positionals } = parseCommandArgs('keyring-migrate', args, { ...STORE_OPTIONS, kid: { type: 'string' } }, ['NAME']);
    const name = positionals[0]!;
    if (values.kid !== undefined && !KID_PATTERN.test(values.kid)) throw new UsageError('--kid takes 1-64 letters, digits, _ or -');
    const outcome = await withCliStore(values, io, false, async (store) => {
      const current = await store.access(name, 'latest');
      try {
        if (isKeyset(Buffer.from(current.value).toString('utf8'))) return { name, migrated: false, version: current.version };
        const keyset = keysetFromPlainSecret(current.value, { now: Date.now(), ...(values.kid === undefined ? {} : { kid: values.kid }) });
        const primary = keyset.keys[0]!.kid;
        const added = await store.put(name, Buffer.from(serializeKeyset(keyset), 'utf8'), { ifLatest: current.version });
        return { name, migrated: true, version: added.version, from: current.version, primary };
      } catch (error) {
        if (error instanceof KeyshiftError && error.code === ErrorCodes.CONFLICT) {
          throw new KeyshiftError(ErrorCodes.CONFLICT, `${name} changed while it was being migrated: nothing written; run keyshift keyring-migrate again`, { entry: name });
        }
        throw error;
      } finally {
        current.value.fill(0);
      }
    });
    if (values.json) writeJson(io, outcome);
    else if (!outcome.migrated) io.stdout.write(`${name}: version ${outcome.version} is already a keyset; nothing to do\n`);
    else io.stdout.write(`${name}: version ${outcome.version} is a keyset whose primary key ${outcome.primary} is the plain value of version ${outcome.from}\n`);
    return ExitCode.OK;
  },
});
