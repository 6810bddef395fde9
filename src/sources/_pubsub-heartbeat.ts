/**
 * A heartbeat through the notification topic: one small, value-free message every
 * interval, addressed to this instance's subscription. Seeing it come back proves
 * the whole path (topic, subscription, stream) delivers; see NotificationHealth.
 */
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Clock } from '../types.ts';
import { HEARTBEAT_ATTRIBUTE, HEARTBEAT_EVENT } from './_pubsub-instance-subscription.ts';

export interface HeartbeatOptions {
  client: PubSub;
  /** `projects/{p}/topics/{t}`. */
  topic: string;
  /** The subscription id the heartbeat is addressed to. */
  subscriptionId: string;
  intervalMs: number;
  /** A publish not acknowledged within this many (real) ms is a failure; the client's own retries stay inside it. */
  timeoutMs: number;
  clock: Clock;
  /** A heartbeat could not be published (topic missing, denied): value-free. */
  onFailure(error: KeyshiftError): void;
}

export class PubSubHeartbeat {
  readonly #options: HeartbeatOptions;
  readonly #topic: Topic;
  #timer: ReturnType<Clock['setTimeout']> | undefined;
  #closed = false;
  sent = 0;
  failed = 0;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
    // bounded: with Pub/Sub unreachable the client would otherwise retry a publish for up to 10 min
    this.#topic = options.client.topic(options.topic, { batching: { maxMessages: 1, maxMilliseconds: 0 }, gaxOpts: { timeout: options.timeoutMs } });
  }

  /** Sends one now, then one every interval until close(). */
  start(): void {
    this.#send();
  }

  /** True when `attributes` are a heartbeat addressed to this subscription. */
  isMine(attributes: Readonly<Record<string, string>>): boolean {
    return attributes.eventType === HEARTBEAT_EVENT && attributes[HEARTBEAT_ATTRIBUTE] === this.#options.subscriptionId;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #send(): void {
    if (this.#closed) return;
    const { clock, intervalMs, subscriptionId } = this.#options;
    this.#timer = clock.setTimeout(() => this.#send(), intervalMs);
    const attributes = { eventType: HEARTBEAT_EVENT, [HEARTBEAT_ATTRIBUTE]: subscriptionId };
    this.#topic.publishMessage({ data: Buffer.alloc(0), attributes }).then(
      () => void this.sent++,
      (error: unknown) => {
        this.failed++;
        if (this.#closed) return;
        const grpcCode = typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : undefined;
        const why =
          grpcCode === 5
            ? 'the topic does not exist'
            : grpcCode === 7
              ? 'publishing is denied'
              : grpcCode === 4 || grpcCode === 14
                ? `Pub/Sub did not answer within ${this.#options.timeoutMs} ms`
                : 'publishing failed';
        this.#options.onFailure(
          new KeyshiftError(ErrorCodes.NOTIFICATIONS_UNAVAILABLE, `a heartbeat to ${this.#options.topic} was not sent: ${why}; entries refresh at their own TTLs`, {
            details: { topic: this.#options.topic, ...(grpcCode === undefined ? {} : { grpcCode }) },
          }),
        );
      },
    );
  }
}
