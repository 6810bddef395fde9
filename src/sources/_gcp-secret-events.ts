/**
 * Secret Manager's Pub/Sub notifications, as push and pull both receive them: the
 * message attributes say what happened (`eventType`) and to which secret
 * (`secretId`, `versionId`); the data (the resource as JSON) is not needed.
 */
import { DEFAULT_PUSH_DEDUPE_SIZE } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { SECRET_RESOURCE, secretIdOf, VERSION_RESOURCE } from '../gcp/resource-names.ts';

/** Event types that may change what an entry reads. */
const INVALIDATING = new Set([
  'SECRET_CREATE',
  'SECRET_UPDATE',
  'SECRET_DELETE',
  'SECRET_VERSION_ADD',
  'SECRET_VERSION_ENABLE',
  'SECRET_VERSION_DISABLE',
  'SECRET_VERSION_DESTROY',
  'SECRET_VERSION_DESTROY_SCHEDULED',
]);
/** Known event types that change no value: a rotation reminder, the topic's test message. */
const HARMLESS = new Set(['SECRET_ROTATE', 'TOPIC_CONFIGURED']);

/** One notification, reduced to what keyshift acts on. */
export interface SecretEvent {
  /** `SECRET_VERSION_ADD`, `SECRET_UPDATE`... */
  eventType: string;
  /** `projects/{p}/secrets/{s}`; absent for TOPIC_CONFIGURED. */
  secretId?: string;
  /** `projects/{p}/secrets/{s}/versions/{v}`, for version events. */
  versionId?: string;
  /** Pub/Sub's id of the message. */
  messageId: string;
}

export type ClassifiedEvent =
  | { kind: 'invalidate'; event: SecretEvent & { secretId: string } }
  | { kind: 'ignore'; event: SecretEvent }
  /** An event type keyshift does not know (a newer Secret Manager event, another publisher's message): acknowledge, report, do nothing. */
  | { kind: 'unknown'; event: SecretEvent }
  | { kind: 'invalid'; reason: string };

/** Validates the attributes of a Secret Manager notification and says what to do with it. */
export function classifySecretEvent(attributes: unknown, messageId: string): ClassifiedEvent {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    return { kind: 'invalid', reason: 'message.attributes must be an object' };
  }
  const attrs = attributes as Record<string, unknown>;
  const { eventType, secretId, versionId } = attrs;
  if (typeof eventType !== 'string') return { kind: 'invalid', reason: 'attributes.eventType is missing' };
  if (HARMLESS.has(eventType)) return { kind: 'ignore', event: { eventType, messageId } };
  if (!/^[A-Z][A-Z0-9_]{0,63}$/.test(eventType)) return { kind: 'invalid', reason: 'attributes.eventType is not an event type' };
  if (!INVALIDATING.has(eventType)) return { kind: 'unknown', event: { eventType, messageId } };
  if (typeof secretId !== 'string' || !SECRET_RESOURCE.test(secretId)) {
    return { kind: 'invalid', reason: 'attributes.secretId is not a secret resource name' };
  }
  if (versionId !== undefined && (typeof versionId !== 'string' || !VERSION_RESOURCE.test(versionId))) {
    return { kind: 'invalid', reason: 'attributes.versionId is not a secret version resource name' };
  }
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'JSON_API_V1') {
    return { kind: 'invalid', reason: 'attributes.dataFormat is not JSON_API_V1' };
  }
  const event = { eventType, secretId, messageId, ...(versionId === undefined ? {} : { versionId }) };
  return { kind: 'invalidate', event };
}

/** Remembers the last `size` message ids, to drop redeliveries. */
class MessageIdWindow {
  readonly #size: number;
  readonly #ids = new Set<string>();

  constructor(size: number) {
    this.#size = size;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  add(id: string): void {
    this.#ids.add(id);
    if (this.#ids.size > this.#size) this.#ids.delete(this.#ids.values().next().value as string);
  }
}

/** What a notification invalidates: gcpSecretManager() is one. */
export interface InvalidationTarget {
  invalidate(names?: readonly string[]): void;
  entriesFor(secretResource: string): readonly string[];
}

/** The target options push and pull share. */
export interface NotificationTargetOptions {
  /** The source to invalidate (a gcpSecretManager()). Exclusive with `onInvalidate`. */
  source?: InvalidationTarget;
  /** Called with the entries to refresh, instead of a source. Exclusive with `source`. */
  onInvalidate?: (names: readonly string[], event: SecretEvent) => void | Promise<void>;
  /** With `onInvalidate`: maps a secret resource name to entry names. Default: its secret id. */
  entriesFor?: (secretResource: string) => readonly string[];
  /** Message ids remembered to drop redeliveries. Default 10,000 (DEFAULT_PUSH_DEDUPE_SIZE). */
  dedupeSize?: number;
}

/** `done`: acted or nothing to do (acknowledge); `failed`: the invalidation threw (redeliver). */
export type SinkOutcome = 'done' | 'failed';

/**
 * Acts on valid notifications: drops redelivered message ids, maps the secret to its
 * entries and invalidates them. A message id is remembered only once it was handled.
 */
export function createNotificationSink(
  options: NotificationTargetOptions,
  who: string,
): (classified: Extract<ClassifiedEvent, { kind: 'invalidate' | 'ignore' }>) => Promise<SinkOutcome> {
  if ((options.source === undefined) === (options.onInvalidate === undefined)) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${who}: give either source or onInvalidate`);
  }
  const seen = new MessageIdWindow(options.dedupeSize ?? DEFAULT_PUSH_DEDUPE_SIZE);
  const { source, onInvalidate } = options;
  const entriesFor =
    source?.entriesFor.bind(source) ??
    options.entriesFor ??
    ((resource: string) => [secretIdOf(resource)].filter((id) => id !== undefined));
  return async (classified) => {
    const { event } = classified;
    if (classified.kind === 'ignore' || seen.has(event.messageId)) return 'done';
    const names = entriesFor(classified.event.secretId);
    try {
      if (names.length > 0 && source !== undefined) source.invalidate(names);
      else if (names.length > 0) await onInvalidate!(names, classified.event);
    } catch {
      return 'failed';
    }
    seen.add(event.messageId);
    return 'done';
  };
}
