/**
 * Posts Pub/Sub push envelopes, as a push subscription on a Secret Manager topic
 * would, to configured URLs on every change. Delivery is retried a few times with
 * backoff (Pub/Sub retries too); every timer and socket is released by close().
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SecretName } from './_resource-names.ts';
import { type SecretMessage, toProtoJson, type VersionMessage } from './_resources.ts';

export type SecretEventType = 'SECRET_CREATE' | 'SECRET_UPDATE' | 'SECRET_DELETE';
export type VersionEventType =
  | 'SECRET_VERSION_ADD'
  | 'SECRET_VERSION_ENABLE'
  | 'SECRET_VERSION_DISABLE'
  | 'SECRET_VERSION_DESTROY';

/** A change to publish, with the resource as it is after the change. */
export type SecretManagerEvent =
  | { type: SecretEventType; secret: SecretName; resource: SecretMessage }
  | { type: VersionEventType; secret: SecretName; version: number; resource: VersionMessage };

export interface PushSubscriptionOptions {
  /** The push endpoint (http or https). */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. Default: no header. */
  bearerToken?: string;
  /** Appended as `?token=<value>`, the shared-secret pattern. Default: none. */
  queryToken?: string;
  /** The subscription named in the envelope. Default `projects/{project}/subscriptions/keyshift-emulator`. */
  subscription?: string;
  /** Per-POST timeout. Default 5000. */
  timeoutMs?: number;
  /** Attempts per message before giving up. Default 3. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt. Default 100. */
  retryDelayMs?: number;
}

/** A PubsubMessage as a push envelope carries it. */
export interface PushMessage {
  attributes: Record<string, string>;
  /** Base64 of the resource's proto3 JSON. */
  data: string;
  messageId: string;
  publishTime: string;
}

/** Reported when a message could not be delivered; the URL is given without its query. */
export interface PushFailure {
  endpoint: string;
  messageId: string;
  attempts: number;
  status?: number;
}

export interface PushPublisherOptions {
  /** Project used in default subscription names. */
  project: string;
  subscriptions?: readonly PushSubscriptionOptions[];
  /** Called once per message given up on. */
  onFailure?: (failure: PushFailure) => void;
}

/** The Pub/Sub message Secret Manager publishes for `event`. */
export function toPushMessage(event: SecretManagerEvent, messageId: string, now = new Date()): PushMessage {
  const time = now.toISOString();
  const attributes: Record<string, string> = {
    dataFormat: 'JSON_API_V1',
    eventType: event.type,
    secretId: `projects/${event.secret.project}/secrets/${event.secret.secret}`,
    timestamp: time,
  };
  if ('version' in event) attributes.versionId = event.resource.name;
  const data = Buffer.from(JSON.stringify(toProtoJson(event.resource))).toString('base64');
  return { attributes, data, messageId, publishTime: time };
}

const endpointOf = (url: URL): string => `${url.origin}${url.pathname}`;

export class PushPublisher {
  readonly #options: PushPublisherOptions;
  readonly #subscriptions = new Set<PushSubscriptionOptions>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Retry sleeps: close() clears each timer and wakes its sleeper. */
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>();
  readonly #aborts = new Set<AbortController>();
  #nextId = BigInt(Date.now()) * 1000n;
  #closed = false;
  /** Messages accepted (2xx) per subscription URL, and messages given up on. */
  readonly stats = { delivered: 0, failed: 0 };

  constructor(options: PushPublisherOptions) {
    this.#options = options;
    for (const s of options.subscriptions ?? []) this.add(s);
  }

  /** Adds a subscription; returns a disposer that removes it. */
  add(subscription: PushSubscriptionOptions): () => void {
    const url = new URL(subscription.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('push url must be http or https');
    this.#subscriptions.add(subscription);
    return () => this.#subscriptions.delete(subscription);
  }

  /** Sends `event` to every subscription, in the background. */
  publish(event: SecretManagerEvent): void {
    if (this.#closed || this.#subscriptions.size === 0) return;
    this.#nextId += 1n;
    const message = toPushMessage(event, String(this.#nextId));
    const wire = { ...message, message_id: message.messageId, publish_time: message.publishTime };
    for (const sub of this.#subscriptions) {
      const subscription = sub.subscription ?? `projects/${this.#options.project}/subscriptions/keyshift-emulator`;
      const body = JSON.stringify({ message: wire, subscription });
      const task = this.#deliver(sub, body, message.messageId).finally(() => this.#inFlight.delete(task));
      this.#inFlight.add(task);
    }
  }

  /** Resolves when every message published so far is delivered or given up on. */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** Stops publishing, aborts deliveries in flight and clears retry timers. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [timer, wake] of this.#timers) {
      clearTimeout(timer);
      wake();
    }
    this.#timers.clear();
    for (const a of this.#aborts) a.abort();
    await Promise.allSettled([...this.#inFlight]);
  }

  async #deliver(sub: PushSubscriptionOptions, body: string, messageId: string): Promise<void> {
    const url = new URL(sub.url);
    if (sub.queryToken !== undefined) url.searchParams.set('token', sub.queryToken);
    const attempts = sub.maxAttempts ?? 3;
    let status: number | undefined;
    for (let attempt = 1; attempt <= attempts && !this.#closed; attempt++) {
      if (attempt > 1) await this.#sleep((sub.retryDelayMs ?? 100) * 2 ** (attempt - 2));
      if (this.#closed) return;
      status = await this.#post(url, body, sub);
      if (status !== undefined && status >= 200 && status < 300) {
        this.stats.delivered += 1;
        return;
      }
    }
    if (this.#closed) return;
    this.stats.failed += 1;
    this.#options.onFailure?.({ endpoint: endpointOf(url), messageId, attempts, ...(status ? { status } : {}) });
  }

  /** One POST; resolves with the status, or undefined on a network error or timeout. */
  #post(url: URL, body: string, sub: PushSubscriptionOptions): Promise<number | undefined> {
    const abort = new AbortController();
    this.#aborts.add(abort);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': 'keyshift-emulator (APIs-Google-compatible push)',
    };
    if (sub.bearerToken !== undefined) headers.authorization = `Bearer ${sub.bearerToken}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<number | undefined>((resolve) => {
      const req = send(url, {
        method: 'POST',
        headers,
        agent: false,
        signal: abort.signal,
        timeout: sub.timeoutMs ?? 5_000,
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
        res.on('error', () => resolve(undefined));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(undefined));
      req.end(body);
    }).finally(() => this.#aborts.delete(abort));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, ms);
      this.#timers.set(timer, resolve);
    });
  }
}
