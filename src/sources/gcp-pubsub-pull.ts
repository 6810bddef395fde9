/**
 * Secret Manager notifications through a Pub/Sub pull subscription, with the official
 * `@google-cloud/pubsub` client (an optional peer, imported on start). The choice for a
 * fleet (Cloud Run instances cannot be addressed one by one): each instance needs its
 * own subscription on the topic, and keyshift can make it, and remove it on close():
 *
 *   const source = gcpSecretManager({ project });
 *   const pull = await gcpPubSubPull({ instanceSubscription: { topic: `projects/${project}/topics/secrets` }, source });
 *   const ks = createKeyshift(secrets, { source, notifications: pull.health });
 *   ...
 *   await pull.close(); // deletes the subscription (bounded: within Cloud Run's 10 s after SIGTERM)
 *
 * A heartbeat sent through the same topic and seen coming back keeps `pull.health`
 * healthy, which lets the entries' TTL polling rest (see NotificationHealth). Nothing
 * here ever fails a read: when the subscription cannot be made or dies, onError is
 * told, the health goes down, and the entries refresh at their own TTLs.
 */
import type { ClientConfig, Message, PubSub, Subscription } from '@google-cloud/pubsub';
import { loadOptionalPeer } from '../_optional-peer.ts';
import {
  DEFAULT_PUBSUB_CLOSE_TIMEOUT_MS,
  DEFAULT_PUBSUB_HEARTBEAT_INTERVAL_MS,
  DEFAULT_PUBSUB_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_PUBSUB_SUBSCRIBE_RETRY_MS,
} from '../constants.ts';
import { systemClock } from '../core/clock.ts';
import { NotificationHealth } from '../core/notification-health.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { resolveProjectId } from '../gcp/metadata.ts';
import type { Clock } from '../types.ts';
import { classifySecretEvent, createNotificationSink, type NotificationTargetOptions, type SecretEvent } from './_gcp-secret-events.ts';
import { PubSubHeartbeat } from './_pubsub-heartbeat.ts';
import {
  createInstanceSubscription,
  deleteInstanceSubscription,
  FLEET_PING,
  HEARTBEAT_EVENT,
  type InstanceSubscriptionOptions,
  type ResolvedInstanceSubscription,
  resolveInstanceSubscription,
} from './_pubsub-instance-subscription.ts';

export type { InstanceSubscriptionOptions } from './_pubsub-instance-subscription.ts';

/** This part's defaults and limits. */
export {
  DEFAULT_NOTIFICATION_QUIET_AFTER_MS,
  DEFAULT_NOTIFICATION_SAFETY_TTL_MS,
  DEFAULT_PUBSUB_CLOSE_TIMEOUT_MS,
  DEFAULT_PUBSUB_HEARTBEAT_INTERVAL_MS,
  DEFAULT_PUBSUB_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_PUBSUB_SUBSCRIBE_RETRY_MS,
  DEFAULT_PUSH_DEDUPE_SIZE,
  PUBSUB_FILTER_MAX_BYTES,
  PUBSUB_MIN_EXPIRATION_MS,
  PUBSUB_MIN_RETENTION_MS,
} from '../constants.ts';

/** `source` or `onInvalidate` (+ `entriesFor`), `dedupeSize`: see NotificationTargetOptions. */
export interface GcpPubSubPullOptions extends NotificationTargetOptions {
  /** An existing subscription: `projects/{p}/subscriptions/{s}`, or `{s}` in the client's project. Exclusive with `instanceSubscription`. */
  subscription?: string;
  /**
   * Make a subscription for this instance on the notification topic at start, and delete it on
   * close(). Needs `pubsub.subscriptions.create/delete/consume` (roles/pubsub.editor on the
   * project, or a custom role) and roles/pubsub.subscriber on the topic. Exclusive with `subscription`.
   */
  instanceSubscription?: InstanceSubscriptionOptions;
  /** Project of the subscription when the topic or subscription is not a full name. Default `GOOGLE_CLOUD_PROJECT`, then `GCLOUD_PROJECT`, then the metadata server. */
  project?: string;
  /** An existing client; it stays yours (close() leaves it open). Exclusive with `clientConfig`. */
  client?: PubSub;
  /** Config for a client this source creates and closes. Default: `{}` (Application Default Credentials). */
  clientConfig?: ClientConfig;
  /**
   * A heartbeat through the topic (needs roles/pubsub.publisher on it), to know the path works.
   * Default: on with `instanceSubscription` (its topic, every 60 s); off with `subscription` unless a topic is given.
   * A publish not acknowledged within `timeoutMs` (default 30 s) is a failure:
   * onError is told and the health goes down.
   */
  heartbeat?: false | { topic?: string; intervalMs?: number; timeoutMs?: number };
  /** The health the heartbeat feeds. Default: a new NotificationHealth on `clock`. */
  health?: NotificationHealth;
  /** Timers of the heartbeat and of creation retries. Default the system clock. */
  clock?: Clock;
  /** A subscription that could not be made is tried again this often. Default 60,000 ms. */
  retryMs?: number;
  /** Told about malformed messages (acked, dropped), subscription and heartbeat failures. Default: ignored. */
  onError?: (error: KeyshiftError) => void;
  /** Told about messages of an event type keyshift does not know (acked, no action). Default: ignored. */
  onIgnored?: (event: SecretEvent) => void;
}

/** The part of a Pub/Sub `Message` the handler uses. */
export type PullMessage = Pick<Message, 'id' | 'attributes' | 'ack' | 'nack'>;

export interface GcpPubSubPullStatus {
  /** `projects/{p}/subscriptions/{s}`. */
  subscription: string;
  /** Made by keyshift for this instance (deleted on close()). */
  perInstance: boolean;
  /** Listening on the subscription now. */
  listening: boolean;
  /** The filter set on a per-instance subscription; undefined when none (too long, or no secrets named). */
  filter: string | undefined;
  messages: number;
  heartbeatsSent: number;
  heartbeatsBack: number;
  errors: number;
}

export interface GcpPubSubPull {
  /** Whether notifications are known to arrive: give it to createKeyshift({ notifications }). */
  readonly health: NotificationHealth;
  /** `projects/{p}/subscriptions/{s}`. */
  readonly subscription: string;
  status(): GcpPubSubPullStatus;
  /** Calls `listener` when a fleet ping (`keyshift fleet`) arrives; see startFleetReporter. Returns a disposer. */
  onPing(listener: () => void): () => void;
  /**
   * Stops listening and the heartbeat, deletes a per-instance subscription (giving up after its
   * closeTimeoutMs, 5 s by default: the expiration policy removes it later), closes a client it made.
   */
  close(): Promise<void>;
}

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `gcpPubSubPull: ${message}`);
}

const grpcCodeOf = (error: unknown): number | undefined =>
  typeof (error as { code?: unknown })?.code === 'number' ? (error as { code: number }).code : undefined;

/** Why a subscription could not be made, in words (never the service's own text). */
function createFailure(error: unknown, sub: ResolvedInstanceSubscription): KeyshiftError {
  const grpcCode = grpcCodeOf(error);
  const why =
    grpcCode === 5
      ? `the topic ${sub.topic} does not exist`
      : grpcCode === 7
        ? 'creating it is denied (grant pubsub.subscriptions.create on the project and roles/pubsub.subscriber on the topic)'
        : grpcCode === 8
          ? 'the Pub/Sub quota is exhausted'
          : 'Pub/Sub did not answer';
  return new KeyshiftError(
    ErrorCodes.NOTIFICATIONS_UNAVAILABLE,
    `the per-instance subscription ${sub.name} was not created: ${why}; entries refresh at their own TTLs and keyshift tries again`,
    { details: { subscription: sub.name, topic: sub.topic, ...(grpcCode === undefined ? {} : { grpcCode }) } },
  );
}

/**
 * Handles one pulled message: invalidates the entries of a Secret Manager event and
 * acks; acks (and reports) a malformed message, which redelivery would not fix; acks a
 * redelivered id, a harmless or unknown event without acting; nacks when the
 * invalidation threw, so that Pub/Sub redelivers. Exported for tests: it needs no network.
 */
export function createPullMessageHandler(
  options: Pick<GcpPubSubPullOptions, 'source' | 'onInvalidate' | 'entriesFor' | 'dedupeSize' | 'onError' | 'onIgnored'>,
): (message: PullMessage) => Promise<void> {
  const sink = createNotificationSink(options, 'gcpPubSubPull');
  return async (message) => {
    const classified = classifySecretEvent(message.attributes, message.id);
    if (classified.kind === 'invalid') {
      message.ack();
      options.onError?.(
        new KeyshiftError(ErrorCodes.VALUE_REJECTED, `a Pub/Sub message was dropped: ${classified.reason}`, {
          details: { source: 'gcp-pubsub-pull', messageId: message.id.slice(0, 100) },
        }),
      );
      return;
    }
    if (classified.kind === 'unknown') {
      message.ack();
      options.onIgnored?.(classified.event);
      return;
    }
    if ((await sink(classified)) === 'failed') message.nack();
    else message.ack();
  };
}

/** Resolves once listening, or (with `instanceSubscription`) once creation was tried: a failure is reported, not thrown. */
export async function gcpPubSubPull(options: GcpPubSubPullOptions): Promise<GcpPubSubPull> {
  if (options.client && options.clientConfig) throw invalid('give either client or clientConfig, not both');
  if ((options.subscription === undefined) === (options.instanceSubscription === undefined)) {
    throw invalid('give either subscription or instanceSubscription');
  }
  if (options.subscription !== undefined && !/^(projects\/[^/\s]+\/subscriptions\/)?[A-Za-z][\w.~+%-]{2,254}$/.test(options.subscription)) {
    throw invalid('subscription must be projects/{p}/subscriptions/{s} or a subscription id');
  }
  const clock = options.clock ?? systemClock;
  const health = options.health ?? new NotificationHealth({ clock });
  const handle = createPullMessageHandler(options);
  const hbOptions = options.heartbeat === false ? undefined : options.heartbeat;
  const hbTopicOption = hbOptions?.topic ?? (options.heartbeat === false ? undefined : options.instanceSubscription?.topic);
  const project = projectOf(options) ?? (await resolveProjectId());
  const perInstance =
    options.instanceSubscription === undefined ? undefined : resolveInstanceSubscription(options.instanceSubscription, project ?? needProject(), hbTopicOption !== undefined);
  const given = options.subscription ?? '';
  const name = perInstance?.name ?? (given.startsWith('projects/') || project === undefined ? given : qualify(given, 'subscriptions', project));
  const hbTopic = hbTopicOption === undefined ? undefined : qualify(hbTopicOption, 'topics', project);

  const sdk = await loadOptionalPeer('@google-cloud/pubsub', 'gcpPubSubPull', () => import('@google-cloud/pubsub'));
  const client = options.client ?? new sdk.PubSub(options.clientConfig ?? {});
  const counts = { messages: 0, heartbeatsBack: 0, errors: 0 };
  const report = (error: KeyshiftError): void => {
    counts.errors++;
    try {
      options.onError?.(error);
    } catch {
      // the caller's reporter must not break the subscription
    }
  };
  const hbInterval = hbOptions?.intervalMs ?? DEFAULT_PUBSUB_HEARTBEAT_INTERVAL_MS;
  const heartbeat =
    hbTopic === undefined
      ? undefined
      : new PubSubHeartbeat({
          client,
          topic: hbTopic,
          subscriptionId: name.slice(name.lastIndexOf('/') + 1),
          intervalMs: hbInterval,
          timeoutMs: hbOptions?.timeoutMs ?? DEFAULT_PUBSUB_HEARTBEAT_TIMEOUT_MS,
          clock,
          onFailure: (error) => {
            report(error);
            health.fail(error);
          },
        });

  let subscription: Subscription | undefined;
  let created = false;
  let closed = false;
  let retryTimer: ReturnType<Clock['setTimeout']> | undefined;

  const pingListeners = new Set<() => void>();
  const onMessage = (message: Message): void => {
    counts.messages++;
    if (message.attributes?.eventType === FLEET_PING) {
      message.ack();
      for (const listener of [...pingListeners]) {
        try {
          listener();
        } catch {
          // a reporter's failure is its own
        }
      }
      return;
    }
    if (message.attributes?.eventType === HEARTBEAT_EVENT) {
      message.ack();
      if (heartbeat?.isMine(message.attributes)) {
        counts.heartbeatsBack++;
        health.beat();
      }
      return;
    }
    handle(message).catch(() => message.nack());
  };
  const onError = (error: unknown): void => {
    const grpcCode = grpcCodeOf(error);
    const failure = new KeyshiftError(ErrorCodes.NOTIFICATIONS_UNAVAILABLE, `the Pub/Sub subscription ${name} failed; entries refresh at their own TTLs`, {
      details: { source: 'gcp-pubsub-pull', subscription: name, ...(grpcCode === undefined ? {} : { grpcCode }) },
    });
    report(failure);
    health.fail(failure);
    // a per-instance subscription that is gone (expired, deleted) is made again
    if (perInstance && grpcCode === 5 && !closed) {
      detach();
      created = false;
      scheduleRetry();
    }
  };
  const attach = (): void => {
    subscription ??= client.subscription(name);
    subscription.on('message', onMessage);
    subscription.on('error', onError);
  };
  const detach = (): void => {
    subscription?.off('message', onMessage);
    subscription?.off('error', onError);
  };
  const scheduleRetry = (): void => {
    if (closed || retryTimer !== undefined) return;
    retryTimer = clock.setTimeout(() => {
      retryTimer = undefined;
      void start();
    }, options.retryMs ?? DEFAULT_PUBSUB_SUBSCRIBE_RETRY_MS);
  };
  const start = async (): Promise<void> => {
    if (perInstance) {
      try {
        subscription = await createInstanceSubscription(client, perInstance);
        created = true;
      } catch (error) {
        if (grpcCodeOf(error) === 6) {
          created = true; // ALREADY_EXISTS: ours, made by an earlier attempt that timed out
        } else {
          const failure = createFailure(error, perInstance);
          report(failure);
          health.fail(failure);
          scheduleRetry();
          return;
        }
      }
      if (closed) return;
    }
    attach();
    heartbeat?.start();
  };
  await start();

  let closing: Promise<void> | undefined;
  return {
    health,
    subscription: name,
    onPing(listener) {
      pingListeners.add(listener);
      return () => void pingListeners.delete(listener);
    },
    status: () => ({
      subscription: name,
      perInstance: perInstance !== undefined,
      listening: subscription?.isOpen === true && subscription.listenerCount('message') > 0,
      filter: perInstance?.filter,
      messages: counts.messages,
      heartbeatsSent: heartbeat?.sent ?? 0,
      heartbeatsBack: counts.heartbeatsBack,
      errors: counts.errors,
    }),
    close() {
      closing ??= (async () => {
        closed = true;
        if (retryTimer !== undefined) clock.clearTimeout(retryTimer);
        heartbeat?.close();
        health.close();
        const budgetMs = perInstance?.closeTimeoutMs ?? DEFAULT_PUBSUB_CLOSE_TIMEOUT_MS;
        const started = performance.now();
        let streamClosed: Promise<unknown> = Promise.resolve();
        if (subscription) {
          subscription.off('message', onMessage);
          streamClosed = subscription.close().catch(() => undefined);
          await withinMs(streamClosed, budgetMs / 2);
          subscription.off('error', onError);
          if (perInstance && created) await deleteInstanceSubscription(subscription, Math.max(100, budgetMs - (performance.now() - started)));
        }
        // The client closes only after the stream has closed, even when close() stopped
        // waiting for it: closing the channel under a subscriber's pending waitForReady
        // revives it (@grpc/grpc-js 1.14), and the revived channel keeps the process alive.
        if (!options.client) await withinMs(streamClosed.then(() => client.close()), 1_000);
      })();
      return closing;
    },
  };
}

function projectOf(options: GcpPubSubPullOptions): string | undefined {
  const full = options.instanceSubscription?.topic ?? options.subscription ?? '';
  return /^projects\/([^/]+)\//.exec(full)?.[1] ?? options.project ?? process.env.GOOGLE_CLOUD_PROJECT ?? process.env.GCLOUD_PROJECT;
}

function needProject(): never {
  throw invalid('no project: give the topic as projects/{p}/topics/{t}, the project option, or GOOGLE_CLOUD_PROJECT (no metadata server answered)');
}

/** `projects/{p}/{kind}/{id}` for an id or a full name. */
function qualify(nameOrId: string, kind: 'topics' | 'subscriptions', project: string | undefined): string {
  if (nameOrId.startsWith('projects/')) return nameOrId;
  return `projects/${project ?? needProject()}/${kind}/${nameOrId}`;
}

/** Resolves when `promise` settles or after `ms`, whichever is first; never rejects. */
async function withinMs(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
