/**
 * Publishes the emulator's change events to Pub/Sub topics, as Secret Manager does for a
 * secret's notification topics: the attributes `eventType`, `secretId`, `dataFormat`
 * (`JSON_API_V1`), `timestamp` and, for version events, `versionId`; the data is the
 * resource as JSON. Point it at Google's Pub/Sub emulator (`PUBSUB_EMULATOR_HOST`) and
 * the whole notification path runs with Google's own clients and Pub/Sub.
 * `@google-cloud/pubsub` is an optional peer, imported when the first topic is added.
 */
import type { ClientConfig, PubSub, Topic } from '@google-cloud/pubsub';
import { type SecretManagerEvent, toPushMessage } from './push-publisher.ts';

export interface PubSubTopicOptions {
  /** `projects/{p}/topics/{t}`. */
  topic: string;
  /** An existing client; it stays yours. Exclusive with `clientConfig`. */
  client?: PubSub;
  /** Config of a client made for this topic. Default `{}`: `PUBSUB_EMULATOR_HOST` points it at the emulator. */
  clientConfig?: ClientConfig;
}

/** Reported when a message could not be published (value-free). */
export interface TopicFailure {
  topic: string;
  eventType: string;
  grpcCode?: number;
}

interface Target {
  topic: Topic;
  name: string;
  ownClient: PubSub | undefined;
}

export class PubSubTopicPublisher {
  readonly #targets = new Set<Promise<Target>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #onFailure: ((failure: TopicFailure) => void) | undefined;
  #closed = false;
  readonly stats = { published: 0, failed: 0 };

  constructor(topics: readonly PubSubTopicOptions[] = [], onFailure?: (failure: TopicFailure) => void) {
    this.#onFailure = onFailure;
    for (const t of topics) this.add(t);
  }

  /** Adds a topic; returns a disposer that removes it. */
  add(options: PubSubTopicOptions): () => void {
    if (!/^projects\/[^/\s]+\/topics\/[A-Za-z][\w.~+%-]{2,254}$/.test(options.topic)) {
      throw new TypeError('a Pub/Sub topic must be projects/{p}/topics/{t}');
    }
    if (options.client && options.clientConfig) throw new TypeError('give either client or clientConfig, not both');
    const target = (async (): Promise<Target> => {
      const ownClient = options.client ? undefined : new (await import('@google-cloud/pubsub')).PubSub(options.clientConfig ?? {});
      const client = options.client ?? (ownClient as PubSub);
      // one message per publish: a notification is sent at once, never held for a batch
      const topic = client.topic(options.topic, { batching: { maxMessages: 1, maxMilliseconds: 0 } });
      return { topic, name: options.topic, ownClient };
    })();
    target.catch(() => undefined);
    this.#targets.add(target);
    return () => void this.#targets.delete(target);
  }

  /** Publishes `event` to every topic, in the background. */
  publish(event: SecretManagerEvent): void {
    if (this.#closed || this.#targets.size === 0) return;
    const { attributes, data } = toPushMessage(event, '');
    for (const target of this.#targets) {
      const task = target
        .then((t) => t.topic.publishMessage({ data: Buffer.from(data, 'base64'), attributes }))
        .then(
          () => void this.stats.published++,
          async (error: unknown) => {
            this.stats.failed++;
            const code = (error as { code?: unknown }).code;
            const name = await target.then((t) => t.name, () => 'unknown');
            this.#onFailure?.({ topic: name, eventType: event.type, ...(typeof code === 'number' ? { grpcCode: code } : {}) });
          },
        )
        .finally(() => this.#inFlight.delete(task));
      this.#inFlight.add(task);
    }
  }

  /** Resolves when every message published so far was accepted or given up on. */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    const targets = await Promise.allSettled([...this.#targets]);
    this.#targets.clear();
    for (const t of targets) if (t.status === 'fulfilled') await t.value.ownClient?.close().catch(() => undefined);
  }
}
