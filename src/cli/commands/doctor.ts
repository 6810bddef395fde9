import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { OPTIONAL_PEERS } from '../../_optional-peer.ts';
import { KeyshiftError } from '../../errors.ts';
import { masterKeyGitAdvice } from '../../local-store/gitignore.ts';
import { MASTER_KEY_ENV, MASTER_KEY_FILE } from '../../local-store/master-key.ts';
import { openLocalStore } from '../../local-store/open-local-store.ts';
import { parseCommandArgs, STORE_OPTIONS } from '../_args.ts';
import { type CliIo, defineCommand, ExitCode } from '../_command.ts';
import { formatTable, writeJson } from '../_output.ts';
import { cliStoreDir, openCliStore, parseStoreSpec, type StoreSpec } from '../_store.ts';

type Verdict = 'ok' | 'warn' | 'fail';
interface Check {
  check: string;
  verdict: Verdict;
  detail: string;
}


function installed(name: string): boolean {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}

async function storeChecks(dir: string, io: CliIo): Promise<Check[]> {
  try {
    await stat(dir);
  } catch {
    return [{ check: 'local store', verdict: 'warn', detail: `no store at ${dir} (keyshift put creates one)` }];
  }
  const checks: Check[] = [];
  const fromEnv = Boolean(io.env[MASTER_KEY_ENV]);
  if (!fromEnv) {
    try {
      const mode = (await stat(join(dir, MASTER_KEY_FILE))).mode & 0o777;
      checks.push(
        mode & 0o077
          ? { check: 'master key file', verdict: 'fail', detail: `${MASTER_KEY_FILE} has mode ${mode.toString(8)}; run chmod 600` }
          : { check: 'master key file', verdict: 'ok', detail: `${MASTER_KEY_FILE}, mode 600` },
      );
    } catch {
      checks.push({ check: 'master key file', verdict: 'fail', detail: `no ${MASTER_KEY_FILE} and no ${MASTER_KEY_ENV}` });
    }
    const advice = await masterKeyGitAdvice(join(dir, MASTER_KEY_FILE)).catch(() => undefined);
    checks.push(
      advice
        ? { check: 'master key in git', verdict: 'fail', detail: `${MASTER_KEY_FILE} would be committed: add ${advice.line} to ${advice.gitignore} (keyshift init --gitignore)` }
        : { check: 'master key in git', verdict: 'ok', detail: 'not in a git work tree, or ignored' },
    );
  }
  try {
    const store = await openLocalStore({ dir, create: false, env: io.env });
    try {
      const secrets = await store.list();
      const admin = secrets.some((s) => s.name === 'ADMIN_API_TOKEN') || Boolean(io.env.KEYSHIFT_ADMIN_TOKEN);
      const damaged = secrets.filter((s) => s.damage !== undefined).map((s) => s.name);
      checks.push(
        damaged.length === 0
          ? { check: 'local store', verdict: 'ok', detail: `${dir}: ${secrets.length} secrets, key from ${fromEnv ? MASTER_KEY_ENV : 'file'}` }
          : { check: 'local store', verdict: 'fail', detail: `${dir}: damaged secrets (see keyshift list): ${damaged.join(', ')}` },
      );
      checks.push(
        admin
          ? { check: 'admin token', verdict: 'ok', detail: 'KEYSHIFT_ADMIN_TOKEN or the store ADMIN_API_TOKEN is set' }
          : { check: 'admin token', verdict: 'warn', detail: 'none: keyshift serve will refuse to start (printf %s "$T" | keyshift put ADMIN_API_TOKEN)' },
      );
    } finally {
      await store.close();
    }
  } catch (error) {
    const detail = error instanceof KeyshiftError ? `${error.code}: ${error.message}` : 'cannot open the store';
    checks.push({ check: 'local store', verdict: 'fail', detail });
  }
  return checks;
}

/**
 * A gcp:// or aws:// store: reachable with the credentials at hand (one list call), and
 * whether it holds the admin token. Nothing is read but names; nothing is written.
 */
async function remoteStoreChecks(spec: Exclude<StoreSpec, { kind: 'local' }>, io: CliIo): Promise<Check[]> {
  const label = spec.kind === 'gcp' ? 'Secret Manager store' : 'AWS Secrets Manager store';
  const where = spec.kind === 'gcp' ? `gcp://${spec.project}` : `aws://${spec.region}`;
  const via = spec.endpoint === undefined ? '' : ` via ${spec.endpoint}`;
  try {
    const store = await openCliStore(spec, io, false);
    try {
      const secrets = await store.list();
      const admin = secrets.some((s) => s.name === 'ADMIN_API_TOKEN') || Boolean(io.env.KEYSHIFT_ADMIN_TOKEN);
      return [
        { check: label, verdict: 'ok', detail: `${where}${via}: reachable, ${secrets.length} secrets` },
        admin
          ? { check: 'admin token', verdict: 'ok', detail: 'KEYSHIFT_ADMIN_TOKEN or the store ADMIN_API_TOKEN is set' }
          : { check: 'admin token', verdict: 'warn', detail: `none in ${where} and no KEYSHIFT_ADMIN_TOKEN: keyshift serve will refuse to start` },
      ];
    } finally {
      await store.close();
    }
  } catch (error) {
    const detail = error instanceof KeyshiftError ? `${error.code}: ${error.message}` : `${where}${via}: cannot reach the store`;
    return [{ check: label, verdict: 'fail', detail }];
  }
}

/** `keyshift doctor`: checks Node, the local store and its key, the admin token and which optional peers are installed. */
export const doctor = defineCommand({
  name: 'doctor',
  summary: 'check this machine: Node, the store (local, or reachable gcp:// / aws://), the admin token, optional peers',
  usage: 'keyshift doctor [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]',
  async run(args, io) {
    const { values } = parseCommandArgs('doctor', args, STORE_OPTIONS, []);
    const spec = parseStoreSpec(values.store, values.endpoint, io);
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const nodeOk = major > 20 || (major === 20 && minor >= 19);
    const checks: Check[] = [
      { check: 'node', verdict: nodeOk ? 'ok' : 'fail', detail: `v${process.versions.node} (keyshift needs 20.19 or later, as package.json's engines says)` },
      ...(spec.kind === 'local' ? await storeChecks(cliStoreDir(values.store, io), io) : await remoteStoreChecks(spec, io)),
      ...OPTIONAL_PEERS.map(([name, part]): Check =>
        installed(name)
          ? { check: name, verdict: 'ok', detail: `installed: ${part}` }
          : { check: name, verdict: 'warn', detail: `not installed: needed only for ${part} (npm install ${name})` },
      ),
    ];
    if (values.json) writeJson(io, checks);
    else io.stdout.write(formatTable(['CHECK', 'VERDICT', 'DETAIL'], checks.map((c) => [c.check, c.verdict, c.detail])));
    return checks.some((c) => c.verdict === 'fail') ? ExitCode.FAILURE : ExitCode.OK;
  },
});
