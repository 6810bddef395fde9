/**
 * Publishes this instance's fleet report (identity and the version it serves of each
 * entry, never a value) to a Pub/Sub topic: at start, on every change, every
 * `intervalMs`, and when a pull source hears a fleet ping. Needs roles/pubsub.publisher
 * on the topic and the optional peer `@google-cloud/pubsub`.
 *
 *   const reporter = await startFleetReporter({ topic: `projects/${p}/topics/keyshift-fleet`, managers: [ks], instance, pull });
 */
import type { ClientConfig, PubSub, Topic } from '@google-cloud/pubsub';
import { systemClock } from '../core/clock.ts';
import type { InstanceIdentity } from '../core/instance-identity.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Clock, Disposer } from '../types.ts';
import { FLEET_REPORT_EVENT, type FleetReport } from './fleet-report.ts';
import { loadOptionalPeer } from '../_optional-peer.ts';

/** Every few minutes a report goes out even when nothing changed. */
export const DEFAULT_FLEET_REPORT_INTERVAL_MS = 3 * 60_000;

/** What a reporter needs of a manager: its name, the versions it serves, its change events. */
export interface ReportedManager {
  readonly name: string;
  status(): { entries: ReadonlyArray<{ name: string; key?: string; version?: string | undefined; kind?: string }> };
  on(event: 'change', listener: () => void): Disposer;
}

export interface FleetReporterOptions {
  /** `projects/{p}/topics/{t}`: the fleet topic. */
  topic: string;
  managers: readonly ReportedManager[];
  instance: InstanceIdentity;
  /** A pull source whose fleet pings trigger a report. Default: none. */
  pull?: { onPing(listener: () => void): Disposer };
  client?: PubSub;
  clientConfig?: ClientConfig;
  /** Default 3 min. */
  intervalMs?: number;
  clock?: Clock;
  /** A report could not be published (topic missing, denied): value-free. Default: ignored. */
  onError?: (error: KeyshiftError) => void;
}

export interface FleetReporter {
  /** Publishes a report now. */
  report(reason: FleetReport['reason']): Promise<void>;
  readonly sent: number;
  close(): Promise<void>;
}

export async function startFleetReporter(options: FleetReporterOptions): Promise<FleetReporter> {
  if (!/^projects\/[^/\s]+\/topics\/[A-Za-z][\w.~+%-]{2,254}$/.test(options.topic)) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'startFleetReporter: topic must be projects/{p}/topics/{t}');
  }
  const clock = options.clock ?? systemClock;
  const ownClient = options.client ? undefined : new (await loadOptionalPeer('@google-cloud/pubsub', 'startFleetReporter', () => import('@google-cloud/pubsub'))).PubSub(options.clientConfig ?? {});
  const client = options.client ?? (ownClient as PubSub);
  const topic: Topic = client.topic(options.topic, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
  let sent = 0;
  let closed = false;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let pendingChange = false;

  const build = (reason: FleetReport['reason']): FleetReport => ({
    instance: options.instance,
    sentAt: clock.wallNow(),
    reason,
    entries: options.managers.flatMap((ks) =>
      ks
        .status()
        .entries.filter((e) => e.kind !== 'static')
        .map((e) => ({ manager: ks.name, name: e.name, ...(e.key !== undefined && e.key !== e.name ? { key: e.key } : {}), version: e.version })),
    ),
  });
  const report = async (reason: FleetReport['reason']): Promise<void> => {
    if (closed) return;
    const data = Buffer.from(JSON.stringify(build(reason)));
    try {
      await topic.publishMessage({ data, attributes: { eventType: FLEET_REPORT_EVENT, instance: options.instance.instanceId.slice(0, 256) } });
      sent++;
    } catch (error) {
      const grpcCode = (error as { code?: unknown }).code;
      options.onError?.(
        new KeyshiftError(ErrorCodes.NOTIFICATIONS_UNAVAILABLE, `a fleet report to ${options.topic} was not sent${grpcCode === 5 ? ': the topic does not exist' : ''}`, {
          details: { topic: options.topic, ...(typeof grpcCode === 'number' ? { grpcCode } : {}) },
        }),
      );
    }
  };
  const tick = (): void => {
    timer = clock.setTimeout(() => {
      void report('interval');
      tick();
    }, options.intervalMs ?? DEFAULT_FLEET_REPORT_INTERVAL_MS);
  };
  const disposers: Disposer[] = options.managers.map((ks) =>
    ks.on('change', () => {
      // changes of one refresh round go out as one report
      if (pendingChange) return;
      pendingChange = true;
      queueMicrotask(() => {
        pendingChange = false;
        void report('change');
      });
    }),
  );
  if (options.pull) disposers.push(options.pull.onPing(() => void report('ping')));
  await report('start');
  tick();
  return {
    report,
    get sent() {
      return sent;
    },
    async close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      for (const d of disposers.splice(0)) d();
      await ownClient?.close().catch(() => undefined);
    },
  };
}
