import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_VALUE_BYTES } from '../../constants.ts';
import { type RotationReport, verifyRotation } from '../../rotation/staged/rotation-verifier.ts';
import { STORE_OPTIONS, parseCommandArgs } from '../_args.ts';
import { type CliIo, ExitCode, defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';
import { formatTable, writeJson } from '../_output.ts';
import { readValueFromStdin } from '../_stdin.ts';
import { withCliStore } from '../_store.ts';

function statusUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('--instances takes comma-separated http(s) URLs');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--instances takes comma-separated http(s) URLs');
  if (!url.pathname.endsWith('/admin/status')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/admin/status`;
  return url.href;
}

function positiveInt(text: string | undefined, flag: string, fallback: number | undefined): number | undefined {
  if (text === undefined) return fallback;
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new UsageError(`${flag} must be a positive number of milliseconds`);
  return Number(text);
}

function print(report: RotationReport, io: CliIo): void {
  const ms = (n: number | undefined): string => (n === undefined ? '-' : `${Math.round(n)} ms`);
  const rows = report.instances.map((r) => [
    r.instance,
    r.converged ? 'yes' : 'NO',
    ms(r.propagationMs),
    r.version ?? '-',
    r.failedRequests === undefined ? 'not exposed' : String(r.failedRequests),
    r.lastError ?? '',
  ]);
  io.stdout.write(formatTable(['instance', 'converged', 'propagation', 'serves', 'failed requests', 'last error'], rows));
  const p = report.propagationMs;
  io.stdout.write(
    `${report.entry} version ${report.version}: ${report.instances.filter((r) => r.converged).length}/${report.instances.length} converged within ${report.deadlineMs} ms; ` +
      `propagation p50 ${ms(p?.p50)}, p99 ${ms(p?.p99)}, max ${ms(p?.max)}; ${report.failedRequests} failed requests; ${report.ok ? 'OK' : 'FAILED'}\n`,
  );
}

/**
 * `keyshift verify-rotation`: puts a new version of an entry in the local store, polls
 * each instance's GET /admin/status until it serves that version, and reports
 * propagation times and failed requests. Exit 0 only when every instance converged
 * within the deadline and none counted a failed request.
 */
export const verifyRotationCommand = defineCommand({
  name: 'verify-rotation',
  summary: 'put a new version and measure how long each instance takes to serve it',
  usage:
    'keyshift verify-rotation --entry NAME --instances URL1,URL2 [--token T] [--deadline-ms N] [--poll-ms N] [--stdin] [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]\n' +
    '  the admin token: --token, else $KEYSHIFT_ADMIN_TOKEN (kept out of ps); the value: stdin with --stdin, else 32 random bytes (base64url)',
  async run(args, io) {
    const { values } = parseCommandArgs(
      'verify-rotation',
      args,
      {
        ...STORE_OPTIONS,
        entry: { type: 'string' },
        instances: { type: 'string' },
        token: { type: 'string' },
        'deadline-ms': { type: 'string' },
        'poll-ms': { type: 'string' },
        stdin: { type: 'boolean', default: false },
      },
      [],
    );
    const entry = values.entry;
    if (!entry) throw new UsageError('--entry NAME is required');
    const instances = (values.instances ?? '').split(',').filter((s) => s.trim() !== '').map((s) => statusUrl(s.trim()));
    if (instances.length === 0) throw new UsageError('--instances URL1,URL2 is required');
    const token = values.token ?? io.env.KEYSHIFT_ADMIN_TOKEN;
    if (!token) throw new UsageError('the admin token is required: --token T or $KEYSHIFT_ADMIN_TOKEN');
    const deadlineMs = positiveInt(values['deadline-ms'], '--deadline-ms', undefined);
    const pollIntervalMs = positiveInt(values['poll-ms'], '--poll-ms', undefined);
    const value = values.stdin ? await readValueFromStdin(io, DEFAULT_MAX_VALUE_BYTES) : Buffer.from(randomBytes(32).toString('base64url'));
    try {
      const report = await verifyRotation({
        entry,
        instances,
        ...(deadlineMs === undefined ? {} : { deadlineMs }),
        ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
        put: async () => String((await withCliStore(values, io, true, (store) => store.put(entry, value))).version),
        async fetchStatus(url, signal) {
          const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal });
          if (!response.ok) {
            await response.body?.cancel();
            throw new Error(`HTTP ${response.status}`);
          }
          return response.json();
        },
      });
      if (values.json) writeJson(io, report);
      else print(report, io);
      return report.ok ? ExitCode.OK : ExitCode.FAILURE;
    } finally {
      value.fill(0);
    }
  },
});
