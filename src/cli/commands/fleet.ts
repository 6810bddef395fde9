import { collectFleet } from '../../fleet/collect-fleet.ts';
import { type FleetReport, summarizeFleet } from '../../fleet/fleet-report.ts';
import { parseCommandArgs } from '../_args.ts';
import { ExitCode, defineCommand } from '../_command.ts';
import { UsageError } from '../_errors.ts';
import { formatTable, writeJson } from '../_output.ts';

const TOPIC = /^projects\/[^/\s]+\/topics\/[A-Za-z][\w.~+%-]{2,254}$/;

/**
 * `keyshift fleet`: which instances serve which version of each entry, and which lag,
 * from the fleet reports instances publish to a Pub/Sub topic (startFleetReporter): no
 * address per instance. A ping through the notification topic makes every instance report
 * at once. With --wait-for ENTRY=VERSION it measures convergence: how long after the start
 * each instance reported serving that version. Exit 0 when no instance lags (or all converged).
 */
export const fleet = defineCommand({
  name: 'fleet',
  summary: 'which instances serve which version, from their Pub/Sub fleet reports (no URL per instance)',
  usage:
    'keyshift fleet --fleet-topic projects/P/topics/T [--ping-topic projects/P/topics/SECRETS] [--listen-ms N] [--wait-for ENTRY=VERSION --instances N] [--json]\n' +
    '  needs PUBSUB_EMULATOR_HOST or Google credentials; roles/pubsub.editor (a short-lived subscription) and publisher on the ping topic',
  async run(args, io) {
    const { values } = parseCommandArgs(
      'fleet',
      args,
      {
        'fleet-topic': { type: 'string' },
        'ping-topic': { type: 'string' },
        'listen-ms': { type: 'string' },
        'wait-for': { type: 'string' },
        instances: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      [],
    );
    const fleetTopic = values['fleet-topic'];
    if (!fleetTopic || !TOPIC.test(fleetTopic)) throw new UsageError('--fleet-topic projects/P/topics/T is required');
    const pingTopic = values['ping-topic'];
    if (pingTopic !== undefined && !TOPIC.test(pingTopic)) throw new UsageError('--ping-topic must be projects/P/topics/T');
    const listenMs = values['listen-ms'] === undefined ? 3_000 : Number(values['listen-ms']);
    if (!Number.isInteger(listenMs) || listenMs < 100 || listenMs > 3_600_000) throw new UsageError('--listen-ms must be 100 to 3600000');
    const wait = values['wait-for'] === undefined ? undefined : (/^([A-Za-z0-9_.-]{1,255})=([A-Za-z0-9_-]{1,64})$/.exec(values['wait-for']) ?? undefined);
    if (values['wait-for'] !== undefined && !wait) throw new UsageError('--wait-for takes ENTRY=VERSION');
    const expected = values.instances === undefined ? undefined : Number(values.instances);
    if (expected !== undefined && (!Number.isInteger(expected) || expected < 1)) throw new UsageError('--instances must be a positive number');
    const serves = (r: FleetReport): boolean => wait !== undefined && r.entries.some((e) => e.name === wait[1] && e.version === wait[2]);
    const started = Date.now();
    const convergedAfter = new Map<string, number>();
    const reports = await collectFleet({
      fleetTopic,
      ...(pingTopic ? { pingTopic } : {}),
      listenMs,
      onReport: (r, at) => {
        if (serves(r) && !convergedAfter.has(r.instance.instanceId)) convergedAfter.set(r.instance.instanceId, at - started);
      },
      ...(wait ? { until: (all) => all.size >= (expected ?? 1) && [...all.values()].every(serves) } : {}),
    });
    const summary = summarizeFleet(reports.values());
    const lagging = new Set(summary.entries.flatMap((e) => e.lagging));
    const converged = wait ? summary.instances.length >= (expected ?? 1) && summary.instances.every(serves) : undefined;
    const ok = wait ? converged === true : lagging.size === 0;
    if (values.json) {
      writeJson(io, {
        instances: summary.instances.map((r) => ({
          ...r.instance,
          sentAt: new Date(r.sentAt).toISOString(),
          lagging: lagging.has(r.instance.instanceId),
          ...(wait ? { convergedAfterMs: convergedAfter.get(r.instance.instanceId) ?? null } : {}),
          entries: r.entries,
        })),
        entries: summary.entries,
        ...(wait ? { waitFor: { entry: wait[1], version: wait[2], converged } } : {}),
        ok,
      });
    } else {
      const rows = summary.instances.flatMap((r) =>
        r.entries.map((e) => [
          r.instance.instanceId,
          [r.instance.service, r.instance.revision].filter(Boolean).join('/') || '-',
          `${e.manager}/${e.name}`,
          e.version ?? '-',
          summary.entries.find((v) => v.manager === e.manager && v.name === e.name)?.lagging.includes(r.instance.instanceId) ? 'LAGS' : '',
        ]),
      );
      io.stdout.write(formatTable(['instance', 'service/revision', 'entry', 'serves', 'lag'], rows));
      io.stdout.write(`${summary.instances.length} instances reported; ${lagging.size} lag behind the newest version of an entry\n`);
      if (wait) {
        const times = [...convergedAfter.values()].sort((a, b) => a - b);
        io.stdout.write(`${wait[1]} version ${wait[2]}: ${times.length}/${summary.instances.length} converged; max ${times.at(-1) ?? '-'} ms\n`);
      }
    }
    return ok ? ExitCode.OK : ExitCode.FAILURE;
  },
});
