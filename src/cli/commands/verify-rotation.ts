import { randomBytes } from 'node:crypto';
import { DEFAULT_MAX_VALUE_BYTES } from '../../constants.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { type FleetRotationReport, verifyFleetRotation } from '../../fleet/verify-fleet-rotation.ts';
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

const TOPIC = /^projects\/[^/\s]+\/topics\/[A-Za-z][\w.~+%-]{2,254}$/;

function print(report: RotationReport | FleetRotationReport, io: CliIo): void {
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
  if ('lagging' in report) {
    const short = report.expectedInstances !== undefined && report.instances.length < report.expectedInstances;
    io.stdout.write(
      `through the fleet reports on ${report.fleetTopic}: ${report.instances.length} instances heard` +
        (report.expectedInstances === undefined ? '' : ` of ${report.expectedInstances} expected${short ? ' (TOO FEW)' : ''}`) +
        `; lagging: ${report.lagging.length === 0 ? 'none' : report.lagging.join(', ')}\n`,
    );
  }
}

/**
 * `keyshift verify-rotation`: puts a new version of an entry in the store, then watches
 * the instances until each serves it, and reports propagation times and failed requests.
 * Two ways to watch: each instance's GET /admin/status (`--instances URL1,URL2`), or,
 * with no URL per instance, the fleet reports on a Pub/Sub topic (`--fleet-topic`, as
 * `keyshift fleet`): every instance heard there must serve the new version. Exit 0 only
 * when every instance converged within the deadline (and none counted a failed request;
 * with `--instances N` in fleet mode, at least N were heard).
 */
export const verifyRotationCommand = defineCommand({
  name: 'verify-rotation',
  summary: 'put a new version and measure how long each instance takes to serve it',
  usage:
    'keyshift verify-rotation --entry NAME --instances URL1,URL2 [--token T] [--deadline-ms N] [--poll-ms N] [--stdin] [--store DIR|gcp://PROJECT|aws://REGION] [--endpoint E] [--json]\n' +
    '       keyshift verify-rotation --entry NAME --fleet-topic projects/P/topics/T [--ping-topic projects/P/topics/SECRETS] [--instances N] [--listen-ms N] [--deadline-ms N] [--stdin] [--store ...] [--json]\n' +
    '  the admin token (URL mode): --token, else $KEYSHIFT_ADMIN_TOKEN (kept out of ps); the value: stdin with --stdin, else 32 random bytes (base64url)\n' +
    '  fleet mode: needs PUBSUB_EMULATOR_HOST or Google credentials; --listen-ms is how long the fleet is heard before the put (default 3000, less once N instances reported)',
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
        'fleet-topic': { type: 'string' },
        'ping-topic': { type: 'string' },
        'listen-ms': { type: 'string' },
        stdin: { type: 'boolean', default: false },
      },
      [],
    );
    const entry = values.entry;
    if (!entry) throw new UsageError('--entry NAME is required');
    if (values['fleet-topic'] !== undefined) return runFleetMode(entry, values, io);
    for (const flag of ['ping-topic', 'listen-ms'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --fleet-topic`);
    }
    const instances = (values.instances ?? '').split(',').filter((s) => s.trim() !== '').map((s) => statusUrl(s.trim()));
    if (instances.length === 0) throw new UsageError('--instances URL1,URL2 is required');
    const token = values.token ?? io.env.KEYSHIFT_ADMIN_TOKEN;
    if (!token) throw new UsageError('the admin token is required: --token T or $KEYSHIFT_ADMIN_TOKEN');
    const deadlineMs = positiveInt(values['deadline-ms'], '--deadline-ms', undefined);
    const pollIntervalMs = positiveInt(values['poll-ms'], '--poll-ms', undefined);
    await requireEntry(entry, values, io);
    const value = await newValue(values.stdin === true, io);
    try {
      const report = await verifyRotation({
        entry,
        instances,
        ...(deadlineMs === undefined ? {} : { deadlineMs }),
        ...(pollIntervalMs === undefined ? {} : { pollIntervalMs }),
        put: () => putNewVersion(entry, value, values, io),
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

type VerifyValues = Parameters<typeof withCliStore>[0] & {
  instances?: string | undefined;
  token?: string | undefined;
  'deadline-ms'?: string | undefined;
  'poll-ms'?: string | undefined;
  'fleet-topic'?: string | undefined;
  'ping-topic'?: string | undefined;
  'listen-ms'?: string | undefined;
  stdin?: boolean | undefined;
  json?: boolean | undefined;
};

/** The secret must exist in an existing store: a mistyped --entry or --store exits 3 before anything is put or polled, instead of creating a secret no instance serves. */
async function requireEntry(entry: string, values: VerifyValues, io: CliIo): Promise<void> {
  await withCliStore(values, io, false, (store) => store.getSecret(entry));
}

/**
 * Puts the new version and returns it as the instances report it: its number on the
 * local store and Secret Manager, its VersionId on AWS (the AWS source reports the
 * VersionId it serves; version N of the CLI is only the N-th created).
 */
async function putNewVersion(entry: string, value: Buffer, values: VerifyValues, io: CliIo): Promise<string> {
  return withCliStore(values, io, true, async (store) => {
    const added = await store.put(entry, value);
    if (store.aws === undefined) return String(added.version);
    const id = (await store.aws.describe(entry)).versions.find((v) => v.number === added.version)?.id;
    if (id === undefined) throw new KeyshiftError(ErrorCodes.INTERNAL, `AWS Secrets Manager secret ${entry}: version ${added.version} was put but is not listed`, { entry });
    return id;
  });
}

function newValue(stdin: boolean, io: CliIo): Promise<Buffer> {
  return stdin ? readValueFromStdin(io, DEFAULT_MAX_VALUE_BYTES) : Promise.resolve(Buffer.from(randomBytes(32).toString('base64url')));
}

/** --fleet-topic: the instances are the ones heard on the fleet topic, no URL per instance. */
async function runFleetMode(entry: string, values: VerifyValues, io: CliIo): Promise<number> {
  const fleetTopic = values['fleet-topic'] ?? '';
  if (!TOPIC.test(fleetTopic)) throw new UsageError('--fleet-topic must be projects/P/topics/T');
  const pingTopic = values['ping-topic'];
  if (pingTopic !== undefined && !TOPIC.test(pingTopic)) throw new UsageError('--ping-topic must be projects/P/topics/T');
  if (values['poll-ms'] !== undefined) throw new UsageError('--poll-ms goes with --instances URL1,URL2 (fleet mode polls nothing)');
  const expected = values.instances === undefined ? undefined : Number(values.instances);
  if (expected !== undefined && (!/^[1-9][0-9]{0,5}$/.test(values.instances ?? '') || !Number.isInteger(expected))) {
    throw new UsageError('with --fleet-topic, --instances takes the number of instances expected');
  }
  const listenMs = values['listen-ms'] === undefined ? undefined : Number(values['listen-ms']);
  if (listenMs !== undefined && (!Number.isInteger(listenMs) || listenMs < 100 || listenMs > 3_600_000)) throw new UsageError('--listen-ms must be 100 to 3600000');
  const deadlineMs = positiveInt(values['deadline-ms'], '--deadline-ms', undefined);
  await requireEntry(entry, values, io);
  const value = await newValue(values.stdin === true, io);
  try {
    const report = await verifyFleetRotation({
      entry,
      fleetTopic,
      ...(pingTopic === undefined ? {} : { pingTopic }),
      ...(expected === undefined ? {} : { instances: expected }),
      ...(listenMs === undefined ? {} : { discoveryMs: listenMs }),
      ...(deadlineMs === undefined ? {} : { deadlineMs }),
      put: () => putNewVersion(entry, value, values, io),
    });
    if (values.json) writeJson(io, report);
    else print(report, io);
    return report.ok ? ExitCode.OK : ExitCode.FAILURE;
  } finally {
    value.fill(0);
  }
}
