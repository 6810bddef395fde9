/**
 * Reads a fleet's reports without an address per instance: a short-lived subscription on
 * the fleet topic, a ping through the notification topic (every instance's pull source
 * hears it and reports at once), then the reports until `listenMs` passes or `until` holds.
 * The subscription is deleted at the end (and expires in a day if this process dies).
 */
import { randomBytes } from 'node:crypto';
import type { ClientConfig, Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { PUBSUB_MIN_EXPIRATION_MS, PUBSUB_MIN_RETENTION_MS } from '../constants.ts';
import { FLEET_PING_EVENT, FLEET_REPORT_EVENT, type FleetReport, parseFleetReport } from './fleet-report.ts';
import { loadOptionalPeer } from '../_optional-peer.ts';

export interface CollectFleetOptions {
  /** `projects/{p}/topics/{t}`: where instances publish reports. */
  fleetTopic: string;
  /** `projects/{p}/topics/{t}`: the notification topic the instances' pull sources listen on; a ping goes there. Default: no ping. */
  pingTopic?: string;
  /** Listen this long at most. Default 3,000 ms. */
  listenMs?: number;
  /** Stop early once this holds for the reports so far (newest per instance). */
  until?: (reports: ReadonlyMap<string, FleetReport>) => boolean;
  /** Called with each report as it arrives. */
  onReport?: (report: FleetReport, receivedAt: number) => void;
  client?: PubSub;
  clientConfig?: ClientConfig;
}

/** A subscription on the fleet topic, open until close(): the newest report of each instance heard so far. */
export interface FleetListener {
  readonly reports: ReadonlyMap<string, FleetReport>;
  /** Asks every instance listening on `pingTopic` (their notification topic) for a report now. */
  ping(pingTopic: string): Promise<void>;
  /** Stops listening, deletes the subscription, closes a client it made. */
  close(): Promise<void>;
}

/** Opens a short-lived subscription on the fleet topic (1-day expiration if this process dies) and listens. */
export async function openFleetListener(
  options: Pick<CollectFleetOptions, 'fleetTopic' | 'client' | 'clientConfig'> & {
    onReport(report: FleetReport, receivedAt: number, reports: ReadonlyMap<string, FleetReport>): void;
  },
): Promise<FleetListener> {
  const ownClient = options.client ? undefined : new (await loadOptionalPeer('@google-cloud/pubsub', 'keyshift fleet (collectFleet)', () => import('@google-cloud/pubsub'))).PubSub(options.clientConfig ?? {});
  const client = options.client ?? (ownClient as PubSub);
  const project = /^projects\/([^/]+)\//.exec(options.fleetTopic)?.[1] ?? '';
  const name = `projects/${project}/subscriptions/keyshift-fleet-view-${randomBytes(6).toString('hex')}`;
  const reports = new Map<string, FleetReport>();
  let subscription: Subscription;
  try {
    [subscription] = await client.topic(options.fleetTopic).createSubscription(name, {
      expirationPolicy: { ttl: { seconds: PUBSUB_MIN_EXPIRATION_MS / 1000 } },
      messageRetentionDuration: { seconds: PUBSUB_MIN_RETENTION_MS / 1000 },
    });
  } catch (error) {
    await ownClient?.close().catch(() => undefined);
    throw error;
  }
  subscription.on('message', (message: Message) => {
    message.ack();
    if (message.attributes?.eventType !== FLEET_REPORT_EVENT) return;
    const report = parseFleetReport(message.data);
    if (!report) return;
    const seen = reports.get(report.instance.instanceId);
    if (!seen || seen.sentAt <= report.sentAt) reports.set(report.instance.instanceId, report);
    options.onReport(report, Date.now(), reports);
  });
  subscription.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    reports,
    async ping(pingTopic) {
      await client
        .topic(pingTopic)
        .publishMessage({ data: Buffer.alloc(0), attributes: { eventType: FLEET_PING_EVENT } })
        .catch(() => undefined);
    },
    close() {
      closing ??= (async () => {
        subscription.removeAllListeners('message');
        await subscription.close().catch(() => undefined);
        await subscription.delete().catch(() => undefined);
        await ownClient?.close().catch(() => undefined);
      })();
      return closing;
    },
  };
}

/** The newest report of each instance heard. */
export async function collectFleet(options: CollectFleetOptions): Promise<Map<string, FleetReport>> {
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const listener = await openFleetListener({
    fleetTopic: options.fleetTopic,
    ...(options.client ? { client: options.client } : {}),
    ...(options.clientConfig ? { clientConfig: options.clientConfig } : {}),
    onReport(report, at, reports) {
      options.onReport?.(report, at);
      if (options.until?.(reports)) done();
    },
  });
  const timer = setTimeout(done, options.listenMs ?? 3_000);
  try {
    if (options.pingTopic) void listener.ping(options.pingTopic);
    await finished;
  } finally {
    clearTimeout(timer);
    await listener.close();
  }
  return new Map(listener.reports);
}
