/**
 * verify-rotation through the fleet path: no URL per instance. A subscription on the fleet
 * topic hears the instances (a ping through their notification topic makes each report at
 * once); once the fleet is known, the new version is put, and every instance's next
 * reports show when it serves it (instances report on every change). The report has the
 * shape of the URL mode's (rotation/staged/rotation-verifier.ts), plus the lagging ids.
 */
import type { ClientConfig, PubSub } from '@google-cloud/pubsub';
import { DEFAULT_VERIFY_ROTATION_DEADLINE_MS } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { InstanceReport, RotationReport } from '../rotation/staged/rotation-verifier.ts';
import { openFleetListener } from './collect-fleet.ts';
import type { FleetReport } from './fleet-report.ts';

/** How long the fleet is listened to before the put, unless `instances` were all heard sooner. */
export const DEFAULT_FLEET_DISCOVERY_MS = 3_000;

export interface VerifyFleetRotationOptions {
  /** The entry: its store key (what `put` writes) or its declared name, as the fleet reports carry it. */
  entry: string;
  /** `projects/{p}/topics/{t}`: where the instances publish their fleet reports. */
  fleetTopic: string;
  /** `projects/{p}/topics/{t}`: the instances' notification topic; a ping there makes each report at once. Default: no ping (wait for their reports). */
  pingTopic?: string;
  /** Instances expected: the put waits until this many were heard (or `discoveryMs` passed), and fewer is a failure. */
  instances?: number;
  /** Listen this long for the fleet before the put (less once `instances` were heard). Default 3,000 ms. */
  discoveryMs?: number;
  /** An instance that does not report the new version this long after the put lags. Default 30,000 ms. */
  deadlineMs?: number;
  /** Puts the new version; resolves its version id as instances report it ("7"). */
  put(): Promise<string>;
  client?: PubSub;
  clientConfig?: ClientConfig;
}

export interface FleetRotationReport extends RotationReport {
  fleetTopic: string;
  /** The instances expected (`instances`), when given. */
  expectedInstances: number | undefined;
  /** Instance ids that did not serve the new version by the deadline. */
  lagging: string[];
}

/** The versions a report shows for `entry` (by store key or declared name). */
function versionsIn(report: FleetReport, entry: string): string[] {
  return report.entries.filter((e) => e.name === entry || e.key === entry).flatMap((e) => (e.version === undefined ? [] : [e.version]));
}

/** Serves the new version when every matching entry serves it (or, numerically, a later one). */
function serves(versions: readonly string[], version: string): boolean {
  const numeric = /^\d+$/.test(version);
  return versions.length > 0 && versions.every((v) => v === version || (numeric && /^\d+$/.test(v) && Number(v) >= Number(version)));
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

export async function verifyFleetRotation(options: VerifyFleetRotationOptions): Promise<FleetRotationReport> {
  const topic = /^projects\/[^/\s]+\/topics\/[A-Za-z][\w.~+%-]{2,254}$/;
  if (!topic.test(options.fleetTopic)) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'verifyFleetRotation: fleetTopic must be projects/{p}/topics/{t}');
  if (options.pingTopic !== undefined && !topic.test(options.pingTopic)) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'verifyFleetRotation: pingTopic must be projects/{p}/topics/{t}');
  }
  const deadlineMs = options.deadlineMs ?? DEFAULT_VERIFY_ROTATION_DEADLINE_MS;
  const expected = options.instances;
  // the phase the listener is in: discovering the fleet, then watching for the new version
  let version: string | undefined;
  let putAt = 0;
  const convergedAfter = new Map<string, number>();
  let wake: () => void = () => {};
  const check = (reports: ReadonlyMap<string, FleetReport>): boolean => {
    if (version === undefined) return reports.size >= (expected ?? Number.POSITIVE_INFINITY);
    return reports.size >= (expected ?? 1) && [...reports.keys()].every((id) => convergedAfter.has(id));
  };
  const listener = await openFleetListener({
    fleetTopic: options.fleetTopic,
    ...(options.client ? { client: options.client } : {}),
    ...(options.clientConfig ? { clientConfig: options.clientConfig } : {}),
    onReport(report, _at, reports) {
      if (version !== undefined && !convergedAfter.has(report.instance.instanceId) && serves(versionsIn(report, options.entry), version)) {
        convergedAfter.set(report.instance.instanceId, performance.now() - putAt);
      }
      if (check(reports)) wake();
    },
  });
  /** Resolves when `check` holds or after `ms`; the timer holds the event loop open meanwhile. */
  const waitFor = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (check(listener.reports)) wake();
    });
  try {
    if (options.pingTopic) await listener.ping(options.pingTopic);
    await waitFor(options.discoveryMs ?? DEFAULT_FLEET_DISCOVERY_MS);
    const before = new Set(listener.reports.keys());
    version = await options.put();
    putAt = performance.now();
    // a report that showed the new version before put() returned (the notification beat the answer)
    for (const [id, report] of listener.reports) if (serves(versionsIn(report, options.entry), version)) convergedAfter.set(id, 0);
    await waitFor(deadlineMs);
    const ids = [...new Set([...before, ...listener.reports.keys()])];
    const instances = ids.map((id): InstanceReport => {
      const seen = listener.reports.get(id);
      const propagationMs = convergedAfter.get(id);
      const served = seen === undefined ? [] : versionsIn(seen, options.entry);
      return {
        instance: id,
        converged: propagationMs !== undefined,
        propagationMs,
        version: served[0],
        failedRequests: undefined,
        lastError: served.length === 0 ? `reports no entry ${options.entry}` : undefined,
      };
    });
    const times = instances.flatMap((r) => (r.propagationMs === undefined ? [] : [r.propagationMs])).sort((a, b) => a - b);
    const lagging = instances.filter((r) => !r.converged).map((r) => r.instance);
    return {
      entry: options.entry,
      version,
      ok: instances.length > 0 && lagging.length === 0 && instances.length >= (expected ?? 1),
      deadlineMs,
      instances,
      propagationMs: times.length === 0 ? undefined : { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.at(-1) as number },
      failedRequests: 0,
      fleetTopic: options.fleetTopic,
      expectedInstances: expected,
      lagging,
    };
  } finally {
    await listener.close();
  }
}
