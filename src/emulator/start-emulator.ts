/**
 * A local Secret Manager v1 gRPC server over the local store, so the unmodified
 * official client runs against it in tests and in local development:
 *
 *   const emulator = await startEmulator({ storeDir: '.keyshift/store' });
 *   const client = new SecretManagerServiceClient(emulator.clientOptions());
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import { DEFAULT_EMULATOR_PROJECT } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { PROJECT_ID } from '../gcp/resource-names.ts';
import { type LocalStore, openLocalStore } from '../local-store/index.ts';
import { AccessCache } from './_access-cache.ts';
import { ChangeRouter } from './_change-router.ts';
import { ProjectScope } from './_project-scope.ts';
import { loadSecretManagerService } from './_protos.ts';
import { EMULATOR_PEERS, loadOptionalPeer } from '../_optional-peer.ts';
import { createUnaryHandlers } from './_unary-handlers.ts';
import { FaultInjector } from './fault-injection.ts';
import { PubSubTopicPublisher, type PubSubTopicOptions, type TopicFailure } from './pubsub-topic-publisher.ts';
import { type PushFailure, PushPublisher, type PushSubscriptionOptions } from './push-publisher.ts';
import { rotationSchedule } from './rotation-schedule.ts';
import { createSecretManagerService, type ServiceMethod } from './secret-manager-service.ts';

export interface StartEmulatorOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default `'127.0.0.1'` (the emulator has no authentication). */
  host?: string;
  /** An open local store to serve. It stays open after close(). Default: one opened from `storeDir`. */
  store?: LocalStore;
  /** Directory of the store to open when `store` is not given. Default: the local store's own default. */
  storeDir?: string;
  /** Master key for the store opened from `storeDir`. Default: the local store's own default. */
  masterKey?: Uint8Array | string;
  /**
   * The project the store holds. Projects never share a store: calls naming another
   * project get PERMISSION_DENIED. Default: the first project a call names claims the
   * store (until then, changes made outside the emulator are pushed as
   * DEFAULT_EMULATOR_PROJECT's). Another project needs another emulator and store.
   */
  project?: string;
  /**
   * Push subscriptions that receive a Pub/Sub push envelope on every change to the store,
   * made through the emulator or by another process (`keyshift put`). Default: none.
   */
  push?: readonly PushSubscriptionOptions[];
  /** Called when a push message is given up on. Default: ignored. */
  onPushFailure?: (failure: PushFailure) => void;
  /**
   * Pub/Sub topics that receive Secret Manager's notification message on every change, as a
   * secret's `topics` would (attributes and JSON body as the real service sends them). With
   * Google's Pub/Sub emulator (`PUBSUB_EMULATOR_HOST`), pull subscriptions on it see every change.
   * Needs the optional peer `@google-cloud/pubsub`. Default: none.
   */
  pubsubTopics?: readonly PubSubTopicOptions[];
  /** Called when a message could not be published to a topic. Default: ignored. */
  onTopicFailure?: (failure: TopicFailure) => void;
}

/** A type (not an interface) so that it fits the client's index-signed ClientOptions. */
export type EmulatorClientOptions = {
  apiEndpoint: string;
  port: number;
  sslCreds: ChannelCredentials;
  universeDomain: string;
};

export interface Emulator {
  /** The address the server listens on. */
  readonly host: string;
  readonly port: number;
  /** `host:port`, for SECRET_MANAGER_EMULATOR_HOST-style settings. */
  readonly endpoint: string;
  /** The store served. */
  readonly store: LocalStore;
  /** Fault injection: `emulator.faults.inject('AccessSecretVersion', { code: 'UNAVAILABLE', times: 2 })`. */
  readonly faults: FaultInjector;
  /**
   * Options for `new SecretManagerServiceClient(...)` pointing at this emulator over plaintext
   * gRPC. `universeDomain` is set so that the client's auth never probes the GCE metadata server.
   */
  clientOptions(): EmulatorClientOptions;
  /** Calls received by `method` (every method when none is named), faulted ones included. */
  callCount(method?: ServiceMethod): number;
  /** Adds a push subscription; returns a disposer that removes it. */
  addPushSubscription(subscription: PushSubscriptionOptions): () => void;
  /** Resolves when every push sent so far was delivered or given up on. */
  flushPush(): Promise<void>;
  /** Push messages delivered (2xx) and given up on. */
  pushStats(): { delivered: number; failed: number };
  /** Adds a Pub/Sub topic that receives every notification; returns a disposer that removes it. */
  addPubSubTopic(topic: PubSubTopicOptions): () => void;
  /** Messages published to Pub/Sub topics, and failed. */
  topicStats(): { published: number; failed: number };
  /** Answers held calls with UNAVAILABLE, stops the server and the publisher, closes a store it opened. */
  close(): Promise<void>;
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  // a project no resource name can carry would make an emulator that refuses every call
  if (options.project !== undefined && !PROJECT_ID.test(options.project)) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'emulator: project must be a Google Cloud project id or number (1-100 of A-Z a-z 0-9 . : -)');
  }
  const [grpc, service] = await Promise.all([loadOptionalPeer('@grpc/grpc-js', 'the Secret Manager emulator', () => import('@grpc/grpc-js'), EMULATOR_PEERS), loadSecretManagerService()]);
  const ownsStore = options.store === undefined;
  const store =
    options.store ??
    (await openLocalStore({
      ...(options.storeDir === undefined ? {} : { dir: options.storeDir }),
      ...(options.masterKey === undefined ? {} : { masterKey: options.masterKey }),
    }));
  const project = options.project ?? DEFAULT_EMULATOR_PROJECT;
  const scope = new ProjectScope(options.project, DEFAULT_EMULATOR_PROJECT);
  const faults = new FaultInjector();
  const publisher = new PushPublisher({
    project,
    subscriptions: options.push ?? [],
    ...(options.onPushFailure === undefined ? {} : { onFailure: options.onPushFailure }),
  });

  const topics = new PubSubTopicPublisher(options.pubsubTopics ?? [], options.onTopicFailure);
  const notify = (event: Parameters<PushPublisher['publish']>[0]): void => {
    publisher.publish(event);
    topics.publish(event);
  };
  const cache = new AccessCache();
  const changes = new ChangeRouter(store, () => scope.project, cache, notify);
  const handlers = createSecretManagerService({
    store,
    cache,
    onEvent: changes.onEvent,
    onBookkeeping: changes.onBookkeeping,
    scope,
  });
  const rotation = rotationSchedule({ store, project: () => scope.project, publish: notify });
  const unary = createUnaryHandlers(changes.track(rotation.wrap(handlers)), faults);

  const server = new grpc.Server();
  server.addService(service, unary.implementation);
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    endpoint: `${host}:${port}`,
    store,
    faults,
    clientOptions: () => ({
      apiEndpoint: host,
      port,
      sslCreds: grpc.credentials.createInsecure(),
      universeDomain: 'googleapis.com',
    }),
    callCount: (method) =>
      method === undefined ? [...unary.counts.values()].reduce((a, b) => a + b, 0) : (unary.counts.get(method) ?? 0),
    addPushSubscription: (subscription) => publisher.add(subscription),
    flushPush: () => Promise.all([publisher.flush(), topics.flush()]).then(() => undefined),
    addPubSubTopic: (topic) => topics.add(topic),
    topicStats: () => ({ ...topics.stats }),
    pushStats: () => ({ ...publisher.stats }),
    close() {
      closing ??= (async () => {
        changes.close();
        rotation.close();
        unary.releaseAll();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => server.forceShutdown(), 1_000);
          server.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await publisher.close();
        await topics.close();
        if (ownsStore) await store.close();
      })();
      return closing;
    },
  };
}
