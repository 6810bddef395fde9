import { ALERT_WEBHOOK_QUEUE_SIZE, DEFAULT_ALERT_WEBHOOK_TIMEOUT_MS } from '../constants.ts';
import { reveal, type Secret } from '../core/redacted.ts';
import type { Logger } from '../types.ts';

/** A webhook URL, or a function read at each delivery (so a dynamic `SLACK_ALERT_WEBHOOK` entry rotates); null or '' sends nothing. */
export type WebhookUrl = string | URL | Secret<string> | (() => string | URL | Secret<string> | null | undefined);

export interface AlertWebhookOptions {
  /** The Slack-style incoming webhook. It carries a credential: it is never logged. */
  url: WebhookUrl;
  /** A delivery is abandoned after this long. Default 5,000 ms. */
  timeoutMs?: number;
  /** Also post a message when an incident resolves. Default false: one incident, one message. */
  sendResolved?: boolean;
  /** Messages waiting at most; the oldest is dropped first. Default 100. */
  queueSize?: number;
}

/** How one delivery ended: `dropped` when the queue was full or no URL was set. */
export type DeliveryOutcome = 'sent' | 'failed' | 'dropped';

/**
 * Posts `{ "text": ... }` to an incoming webhook, one message at a time, off the
 * caller's path: `send()` only enqueues. A slow, failing or unreachable receiver
 * never blocks an alert, never throws and never leaves an unhandled rejection; each
 * failure is one log line (status code or error kind, never the URL) and a counter.
 */
export class AlertWebhook {
  readonly sendResolved: boolean;
  readonly #options: AlertWebhookOptions;
  readonly #logger: Logger;
  readonly #onDelivery: (outcome: DeliveryOutcome) => void;
  readonly #queue: string[] = [];
  readonly #closer = new AbortController();
  #running: Promise<void> | undefined;

  constructor(options: AlertWebhookOptions, logger: Logger, onDelivery: (outcome: DeliveryOutcome) => void = () => {}) {
    this.#options = options;
    this.sendResolved = options.sendResolved ?? false;
    this.#logger = logger;
    this.#onDelivery = onDelivery;
  }

  /** Queues one message. Returns at once. */
  send(text: string): void {
    if (this.#closer.signal.aborted) return;
    if (this.#queue.length >= (this.#options.queueSize ?? ALERT_WEBHOOK_QUEUE_SIZE)) {
      this.#queue.shift();
      this.#onDelivery('dropped');
    }
    this.#queue.push(text);
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once every queued message was delivered or given up on. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Abandons the delivery in flight and drops the queue. */
  async close(): Promise<void> {
    this.#closer.abort();
    this.#queue.length = 0;
    await this.idle();
  }

  async #drain(): Promise<void> {
    for (let text = this.#queue.shift(); text !== undefined && !this.#closer.signal.aborted; text = this.#queue.shift()) {
      this.#onDelivery(await this.#post(text));
    }
  }

  async #post(text: string): Promise<DeliveryOutcome> {
    let url: string;
    try {
      const raw = typeof this.#options.url === 'function' ? this.#options.url() : this.#options.url;
      url = raw === null || raw === undefined ? '' : String(reveal(raw));
    } catch {
      this.#logger.warn({ reason: 'url-unreadable' }, 'alert webhook: the URL could not be read; message dropped');
      return 'dropped';
    }
    if (url === '') return 'dropped';
    if (!/^https?:\/\//i.test(url)) {
      this.#logger.warn({ reason: 'bad-url' }, 'alert webhook: the URL is not http(s); message dropped');
      return 'dropped';
    }
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_ALERT_WEBHOOK_TIMEOUT_MS;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    timer.unref();
    const onClose = (): void => controller.abort();
    this.#closer.signal.addEventListener('abort', onClose, { once: true });
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        redirect: 'error',
        signal: controller.signal,
      });
      await response.body?.cancel().catch(() => {});
      if (response.ok) return 'sent';
      this.#logger.warn({ status: response.status }, `alert webhook: the receiver answered ${response.status}`);
    } catch (error) {
      const kind = timedOut ? `timed out after ${timeoutMs} ms` : 'could not be reached';
      this.#logger.warn({ reason: error instanceof Error ? error.name : typeof error }, `alert webhook: the receiver ${kind}`);
    } finally {
      clearTimeout(timer);
      this.#closer.signal.removeEventListener('abort', onClose);
    }
    return 'failed';
  }
}
