import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { SecretInfo } from '../../local-store/types.ts';
import { STORE_OPTIONS, parseCommandArgs } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { formatTable, writeJson } from '../_output.ts';
import { cliStoreDir, parseStoreSpec, withCliStore } from '../_store.ts';

/** What is damaged in one secret, for the table: "metadata", "v3", "metadata, v2 v5", or "-". */
function damageOf(secret: SecretInfo): string {
  const { damage } = secret;
  if (damage === undefined) return '-';
  const parts = [...(damage.metadata ? ['metadata'] : []), ...(damage.versions.length > 0 ? [damage.versions.map((v) => `v${v}`).join(' ')] : [])];
  return parts.join(', ') || 'yes';
}

/**
 * `keyshift list`: every secret with its latest version and count; no values. An absent
 * store lists nothing. A damaged secret is listed (a DAMAGED column, `damage` in --json),
 * named on stderr, and makes the exit code 1.
 */
export const list = defineCommand({
  name: 'list',
  summary: 'list the secrets in the store (names and versions, never values)',
  usage: 'keyshift list [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]',
  async run(args, io) {
    const { values } = parseCommandArgs('list', args, STORE_OPTIONS, []);
    let secrets: SecretInfo[];
    try {
      secrets = await withCliStore(values, io, false, (store) => store.list());
    } catch (error) {
      // An absent local store lists nothing; a cloud store that is not found is an error.
      const local = parseStoreSpec(values.store, values.endpoint, io).kind === 'local';
      if (!local || !(error instanceof KeyshiftError) || error.code !== ErrorCodes.SOURCE_NOT_FOUND) throw error;
      secrets = [];
    }
    const damaged = secrets.filter((s) => s.damage !== undefined);
    if (values.json) {
      writeJson(io, secrets);
    } else if (secrets.length === 0) {
      const spec = parseStoreSpec(values.store, values.endpoint, io);
      const where = spec.kind === 'local' ? cliStoreDir(values.store, io) : spec.kind === 'gcp' ? `gcp://${spec.project}` : `aws://${spec.region}`;
      io.stdout.write(`no secrets in ${where}\n`);
    } else {
      const headers = ['NAME', 'LATEST', 'VERSIONS', 'CREATED', ...(damaged.length > 0 ? ['DAMAGED'] : [])];
      const rows = secrets.map((s) => [
        s.name,
        s.latest === undefined ? '-' : String(s.latest),
        String(s.versionCount),
        s.createTime || '-',
        ...(damaged.length > 0 ? [damageOf(s)] : []),
      ]);
      io.stdout.write(formatTable(headers, rows));
    }
    // The listing goes on past a damaged secret; the exit code and stderr say it is there.
    for (const s of damaged) io.stderr.write(`keyshift: secret ${s.name} is damaged: ${s.damage!.problems.join('; ')}\n`);
    return damaged.length > 0 ? ExitCode.FAILURE : ExitCode.OK;
  },
});
