/**
 * Routes changes to the push publisher exactly once. A change made through gRPC is
 * published as the call completes (so `flushPush()` after the call sees it); a change
 * another process makes to the same store (`keyshift put`) arrives through the store's
 * change feed and is published from there. The feed also echoes the emulator's own
 * changes: those are recognised and dropped. Every write, of either kind, invalidates
 * the access cache.
 */
import type { LocalStore, SecretInfo, StoreEvent } from '../local-store/index.ts';
import type { AccessCache } from './_access-cache.ts';
import type { SecretName } from './_resource-names.ts';
import { secretMessage, versionMessage } from './_resources.ts';
import type { SecretEventType, SecretManagerEvent, VersionEventType } from './push-publisher.ts';
import type { ServiceHandlers, ServiceMethod } from './secret-manager-service.ts';

const SECRET_EVENTS = {
  'secret-created': 'SECRET_CREATE',
  'secret-updated': 'SECRET_UPDATE',
  'secret-deleted': 'SECRET_DELETE',
} as const satisfies Record<string, SecretEventType>;

const VERSION_EVENTS = {
  'version-added': 'SECRET_VERSION_ADD',
  'version-enabled': 'SECRET_VERSION_ENABLE',
  'version-disabled': 'SECRET_VERSION_DISABLE',
  'version-destroyed': 'SECRET_VERSION_DESTROY',
} as const satisfies Record<string, VersionEventType>;

const WRITES: readonly ServiceMethod[] = [
  'CreateSecret',
  'UpdateSecret',
  'DeleteSecret',
  'AddSecretVersion',
  'EnableSecretVersion',
  'DisableSecretVersion',
  'DestroySecretVersion',
];

/** How long a published change is remembered, waiting for its echo from the feed. */
const ECHO_WINDOW_MS = 30_000;

const keyOf = (type: string, secret: string, version?: number): string => `${type}:${secret}:${version ?? ''}`;

/** All that is left of a deleted secret: its name. */
function deletedSecret(name: string): SecretInfo {
  const createTime = new Date(0).toISOString();
  return { name, createTime, latest: undefined, versionCount: 0, labels: {}, annotations: {}, aliases: {}, etag: '', extra: {} };
}

/** The secret id a write request names (`secret_id`, `parent`, `name` or `secret.name`). */
function secretOf(request: Record<string, unknown>): string | undefined {
  if (typeof request.secretId === 'string') return request.secretId;
  const named = request.name ?? request.parent ?? (request.secret as { name?: unknown } | undefined)?.name;
  return typeof named === 'string' ? /\/secrets\/([^/]+)/.exec(named)?.[1] : undefined;
}

export class ChangeRouter {
  readonly #store: LocalStore;
  readonly #project: () => string;
  readonly #publish: (event: SecretManagerEvent) => void;
  readonly #cache: AccessCache;
  /** gRPC writes in flight: a feed event waits for them before it is judged an echo or not. */
  readonly #writes = new Set<Promise<unknown>>();
  readonly #published = new Map<string, number>();
  readonly #unwatch: () => void;
  #chain: Promise<void> = Promise.resolve();

  /** `project` names secrets in events for changes made outside the emulator (read when sent). */
  constructor(store: LocalStore, project: () => string, cache: AccessCache, publish: (event: SecretManagerEvent) => void) {
    this.#store = store;
    this.#project = project;
    this.#cache = cache;
    this.#publish = publish;
    this.#unwatch = store.watch((change) => {
      cache.invalidate(change.name);
      const writes = [...this.#writes];
      this.#chain = this.#chain
        .then(() => Promise.allSettled(writes))
        .then(() => this.#fromFeed(change))
        .catch(() => {
          // The secret changed again or vanished before it was read: its next event covers it.
        });
    });
  }

  /** The service's `onEvent`: publishes a change made through gRPC. */
  readonly onEvent = (event: SecretManagerEvent): void => {
    const now = performance.now();
    for (const [key, at] of this.#published) if (now - at > ECHO_WINDOW_MS) this.#published.delete(key);
    this.#published.set(keyOf(event.type, event.secret.secret, 'version' in event ? event.version : undefined), now);
    this.#publish(event);
  };

  /** A store write the service made that is no change of the API's (bookkeeping in `extra`): its echo is dropped. */
  readonly onBookkeeping = (secret: string): void => {
    this.#published.set(keyOf(SECRET_EVENTS['secret-updated'], secret), performance.now());
  };

  /** The handlers, with every write tracked so that the feed can recognise its echo. */
  track(handlers: ServiceHandlers): ServiceHandlers {
    const tracked = { ...handlers };
    for (const method of WRITES) {
      tracked[method] = (request) => {
        const secret = secretOf(request);
        if (secret !== undefined) this.#cache.invalidate(secret);
        const write = handlers[method](request);
        const settled = write.then(
          () => undefined,
          () => undefined,
        );
        if (secret === undefined) void settled.then(() => this.#cache.clear());
        else void settled.then(() => this.#cache.invalidate(secret));
        this.#writes.add(settled);
        void settled.then(() => this.#writes.delete(settled));
        return write;
      };
    }
    return tracked;
  }

  close(): void {
    this.#unwatch();
  }

  async #fromFeed(change: StoreEvent): Promise<void> {
    const project = this.#project();
    const secret: SecretName = { project, secret: change.name };
    if ('version' in change) {
      const type = VERSION_EVENTS[change.type];
      if (this.#published.delete(keyOf(type, change.name, change.version))) return;
      const info = (await this.#store.versions(change.name)).find((v) => v.version === change.version);
      const owner = await this.#store.getSecret(change.name);
      if (info) this.#publish({ type, secret, version: change.version, resource: versionMessage(secret, info, owner) });
      return;
    }
    const type = SECRET_EVENTS[change.type];
    if (this.#published.delete(keyOf(type, change.name))) return;
    const info = type === 'SECRET_DELETE' ? deletedSecret(change.name) : await this.#store.getSecret(change.name);
    this.#publish({ type, secret, resource: secretMessage(project, info) });
  }
}
