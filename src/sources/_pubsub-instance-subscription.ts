/**
 * The per-instance subscription a pull source makes for itself on the notification
 * topic: an expiration policy (an instance killed without close() leaves nothing
 * behind for long), a short retention, and a filter on the secrets it reads when
 * Pub/Sub's 256-byte limit allows. Deleted again, within a bounded time, on close().
 */
import { randomBytes } from 'node:crypto';
import type { PubSub, Subscription } from '@google-cloud/pubsub';
import {
  DEFAULT_PUBSUB_CLOSE_TIMEOUT_MS,
  PUBSUB_FILTER_MAX_BYTES,
  PUBSUB_MIN_EXPIRATION_MS,
  PUBSUB_MIN_RETENTION_MS,
} from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { FLEET_PING_EVENT } from '../fleet/fleet-report.ts';

/** The attribute a keyshift heartbeat carries: the subscription it is meant for. */
export const HEARTBEAT_EVENT = 'KEYSHIFT_HEARTBEAT';
export const HEARTBEAT_ATTRIBUTE = 'keyshiftHeartbeat';
/** The fleet ping (`keyshift fleet`), which a filtered subscription must let through. */
export { FLEET_PING_EVENT as FLEET_PING } from '../fleet/fleet-report.ts';

export interface InstanceSubscriptionOptions {
  /** The notification topic of the secrets: `projects/{p}/topics/{t}`, or `{t}` in the client's project. */
  topic: string;
  /** Id of the subscription. Default `keyshift-{K_SERVICE or "instance"}-{16 random hex}`. */
  name?: string;
  /** Pub/Sub deletes the subscription after this long without a subscriber. Default and minimum 1 day. */
  expireAfterMs?: number;
  /** Unacknowledged messages are kept this long. Default and minimum 10 min. */
  retentionMs?: number;
  /**
   * The secrets to filter on, as notifications name them (`projects/{number}/secrets/{id}`:
   * Secret Manager names the project by number). Default: no filter. When the filter would be
   * over Pub/Sub's 256 bytes, none is set (the source ignores the other secrets' events itself).
   */
  filterSecrets?: readonly string[];
  /** close() gives the unsubscribe and the delete this long in all. Default 5,000 ms (Cloud Run allows 10 s). */
  closeTimeoutMs?: number;
}

const SUBSCRIPTION_ID = /^(?!goog)[A-Za-z][\w.~+%-]{2,254}$/;
const FILTER_SECRET = /^projects\/[A-Za-z0-9_.:-]{1,100}\/secrets\/[A-Za-z0-9_-]{1,255}$/;

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `gcpPubSubPull: ${message}`);
}

/** A subscription id for this instance: the Cloud Run service name and a random part. */
export function instanceSubscriptionId(service = process.env.K_SERVICE): string {
  const prefix = (service ?? 'instance').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40);
  return `keyshift-${prefix}-${randomBytes(8).toString('hex')}`;
}

/**
 * The filter for `secrets` (and this subscription's heartbeats, and fleet pings), or undefined when there is
 * nothing to filter on or it would be over `maxBytes`.
 */
export function subscriptionFilter(
  secrets: readonly string[],
  heartbeatFor: string | undefined,
  maxBytes = PUBSUB_FILTER_MAX_BYTES,
): string | undefined {
  if (secrets.length === 0) return undefined;
  for (const secret of secrets) {
    if (!FILTER_SECRET.test(secret)) throw invalid(`filterSecrets: ${JSON.stringify(secret.slice(0, 80))} is not projects/{p}/secrets/{s}`);
  }
  const clauses = [...new Set(secrets)].map((s) => `attributes.secretId = "${s}"`);
  if (heartbeatFor !== undefined) clauses.push(`attributes.${HEARTBEAT_ATTRIBUTE} = "${heartbeatFor}"`);
  clauses.push(`attributes.eventType = "${FLEET_PING_EVENT}"`);
  const filter = clauses.join(' OR ');
  return Buffer.byteLength(filter) <= maxBytes ? filter : undefined;
}

export interface ResolvedInstanceSubscription {
  /** `projects/{p}/subscriptions/{s}`. */
  name: string;
  id: string;
  topic: string;
  filter: string | undefined;
  expireAfterMs: number;
  retentionMs: number;
  closeTimeoutMs: number;
}

/** Checks the options and picks the name and filter. */
export function resolveInstanceSubscription(
  options: InstanceSubscriptionOptions,
  project: string,
  withHeartbeat: boolean,
): ResolvedInstanceSubscription {
  const id = options.name ?? instanceSubscriptionId();
  if (!SUBSCRIPTION_ID.test(id)) throw invalid('instanceSubscription.name must be a Pub/Sub subscription id (a letter, then 2-254 of [A-Za-z0-9-_.~+%])');
  if (!/^(projects\/[^/\s]+\/topics\/)?[A-Za-z][\w.~+%-]{2,254}$/.test(options.topic)) {
    throw invalid('instanceSubscription.topic must be projects/{p}/topics/{t} or a topic id');
  }
  const expireAfterMs = options.expireAfterMs ?? PUBSUB_MIN_EXPIRATION_MS;
  const retentionMs = options.retentionMs ?? PUBSUB_MIN_RETENTION_MS;
  if (!(expireAfterMs >= PUBSUB_MIN_EXPIRATION_MS)) throw invalid('instanceSubscription.expireAfterMs must be at least 1 day (Pub/Sub\'s minimum)');
  if (!(retentionMs >= PUBSUB_MIN_RETENTION_MS)) throw invalid('instanceSubscription.retentionMs must be at least 10 minutes (Pub/Sub\'s minimum)');
  const topic = options.topic.startsWith('projects/') ? options.topic : `projects/${project}/topics/${options.topic}`;
  return {
    name: `projects/${project}/subscriptions/${id}`,
    id,
    topic,
    filter: subscriptionFilter(options.filterSecrets ?? [], withHeartbeat ? id : undefined),
    expireAfterMs,
    retentionMs,
    closeTimeoutMs: options.closeTimeoutMs ?? DEFAULT_PUBSUB_CLOSE_TIMEOUT_MS,
  };
}

const seconds = (ms: number) => ({ seconds: Math.ceil(ms / 1000) });

/** Creates the subscription; rejects with the client's error (the caller classifies it). */
export async function createInstanceSubscription(client: PubSub, sub: ResolvedInstanceSubscription): Promise<Subscription> {
  const [created] = await client.topic(sub.topic).createSubscription(sub.name, {
    expirationPolicy: { ttl: seconds(sub.expireAfterMs) },
    messageRetentionDuration: seconds(sub.retentionMs),
    ackDeadlineSeconds: 10,
    ...(sub.filter === undefined ? {} : { filter: sub.filter }),
    gaxOpts: { timeout: 10_000, retry: null },
  });
  return created;
}

/** Deletes the subscription, giving up after `timeoutMs`; resolves whether it was deleted (or already gone). */
export async function deleteInstanceSubscription(subscription: Subscription, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const attempt = subscription.delete({ timeout: timeoutMs, retry: null }).then(
    () => true,
    (error: unknown) => (error as { code?: unknown }).code === 5, // NOT_FOUND: already gone
  );
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
