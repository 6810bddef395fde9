/**
 * Secret Manager notifications through a Pub/Sub pull subscription, with the official
 * `@google-cloud/pubsub` client (an optional peer, imported on start). The choice for a
 * fleet: give each instance its own subscription on the topic (a push subscription
 * delivers each message to one endpoint only), and no inbound HTTP endpoint is needed.
 *
 *   const source = gcpSecretManager({ project });
 *   const pull = await gcpPubSubPull({ subscription: `projects/${project}/subscriptions/${instanceId}`, source });
 *   ...
 *   await pull.close();
 */
import type { ClientConfig, Message, PubSub } from '@google-cloud/pubsub';
import { loadOptionalPeer } from '../_optional-peer.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { classifySecretEvent, createNotificationSink, type NotificationTargetOptions } from './_gcp-secret-events.ts';

/** This part's defaults and limits. */
export {
  DEFAULT_PUSH_DEDUPE_SIZE,
} from '../constants.ts';

/** `source` or `onInvalidate` (+ `entriesFor`), `dedupeSize`: see NotificationTargetOptions. */
export interface GcpPubSubPullOptions extends NotificationTargetOptions {
  /** `projects/{p}/subscriptions/{s}`, or `{s}` in the client's project. */
  subscription: string;
  /** An existing client; it stays yours (close() leaves it open). Exclusive with `clientConfig`. */
  client?: PubSub;
  /** Config for a client this source creates and closes. Default: `{}` (Application Default Credentials). */
  clientConfig?: ClientConfig;
  /** Told about malformed messages (acked, dropped) and subscription errors. Default: ignored. */
  onError?: (error: KeyshiftError) => void;
}

/** The part of a Pub/Sub `Message` the handler uses. */
export type PullMessage = Pick<Message, 'id' | 'attributes' | 'ack' | 'nack'>;

export interface GcpPubSubPull {
  /** Stops listening and closes the subscription (and the client, when this created it). */
  close(): Promise<void>;
}

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `gcpPubSubPull: ${message}`);
}

/**
 * Handles one pulled message: invalidates the entries of a Secret Manager event and
 * acks; acks (and reports) a malformed message, which redelivery would not fix; acks a
 * redelivered id or a harmless event without acting; nacks when the invalidation threw,
 * so that Pub/Sub redelivers. Exported for tests: it needs no network.
 */
export function createPullMessageHandler(
  options: Omit<GcpPubSubPullOptions, 'subscription' | 'client' | 'clientConfig'>,
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
    if ((await sink(classified)) === 'failed') message.nack();
    else message.ack();
  };
}

/** Starts listening on `options.subscription`; resolves once the listener is attached. */
export async function gcpPubSubPull(options: GcpPubSubPullOptions): Promise<GcpPubSubPull> {
  if (options.client && options.clientConfig) throw invalid('give either client or clientConfig, not both');
  if (!/^(projects\/[^/\s]+\/subscriptions\/)?[A-Za-z][\w.~+%-]{2,254}$/.test(options.subscription)) {
    throw invalid('subscription must be projects/{p}/subscriptions/{s} or a subscription id');
  }
  const handle = createPullMessageHandler(options);
  const sdk = await loadOptionalPeer('@google-cloud/pubsub', 'gcpPubSubPull', () => import('@google-cloud/pubsub'));
  const client = options.client ?? new sdk.PubSub(options.clientConfig ?? {});
  const subscription = client.subscription(options.subscription);
  const onMessage = (message: Message): void => {
    handle(message).catch(() => message.nack());
  };
  const onError = (error: unknown): void => {
    const code = typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : undefined;
    options.onError?.(
      new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `the Pub/Sub subscription ${options.subscription} failed`, {
        details: { source: 'gcp-pubsub-pull', subscription: options.subscription, ...(code === undefined ? {} : { grpcCode: code }) },
      }),
    );
  };
  subscription.on('message', onMessage);
  subscription.on('error', onError);
  let closing: Promise<void> | undefined;
  return {
    close() {
      closing ??= (async () => {
        subscription.off('message', onMessage);
        await subscription.close();
        subscription.off('error', onError);
        if (!options.client) await client.close();
      })();
      return closing;
    },
  };
}
