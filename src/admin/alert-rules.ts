import * as diagnosticsChannel from 'node:diagnostics_channel';
import { ALERT_FAILURE_WINDOW_MS, ALERT_FAILURES, ALERT_FETCH_LATENCY_MS } from '../constants.ts';
import { systemClock } from '../core/clock.ts';
import { channelName } from '../core/diagnostics.ts';
import type { KeyshiftEvents } from '../core/events.ts';
import type { NotificationHealthChange, NotificationState } from '../core/notification-health.ts';
import { stderrLogger } from '../core/logger.ts';
import type { RotatingPoolEvents } from '../rotation/pg/rotating-pool-events.ts';
import type { RotationEvents } from '../rotation/staged/rotation-result.ts';
import type { Clock, Disposer, Logger } from '../types.ts';
import { type AlertWebhookOptions, AlertWebhook, type DeliveryOutcome, type WebhookUrl } from './alert-webhook.ts';
import type { AdminManager } from './types.ts';

/**
 * The rules of the reference platform, plus a rejected version, a value past its
 * maxStale and an entry served by a fallback source; and, for the rotation parts it
 * is told to watch, a pool whose server keeps refusing the credentials and a
 * rotation step that failed.
 */
export const ALERT_RULES = [
  'slow-fetch',
  'failing',
  'rejected',
  'stale-exceeded',
  'source-fallback',
  'pool-credentials',
  'rotation-failed',
  'notifications-quiet',
  'rollout-halted',
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

/** What the rules need of a rotating pool (`keyshift/rotation/pg`): its alert and recovery events. */
export interface WatchedPool {
  on(event: 'alert', listener: (payload: RotatingPoolEvents['alert']) => void): Disposer;
  on(event: 'recovered', listener: (payload: RotatingPoolEvents['recovered']) => void): Disposer;
}

/** What the rules need of a rotation runner or scheduler (`keyshift/rotation`): its alert and finished events. */
export interface WatchedRotations {
  on(event: 'alert', listener: (payload: RotationEvents['alert']) => void): Disposer;
  on(event: 'finished', listener: (payload: RotationEvents['finished']) => void): Disposer;
}

/** What the rules need of a notification path (`pull.health` of gcpPubSubPull): its state changes. */
export interface WatchedNotifications {
  readonly state: NotificationState;
  on(listener: (change: NotificationHealthChange) => void): Disposer;
}

/** The counters of a notification path (`pull.status()` of gcpPubSubPull). */
export interface NotificationCounters {
  messages: number;
  heartbeatsSent: number;
  heartbeatsBack: number;
  errors: number;
}

/** A pull source itself (gcpPubSubPull): its `health`, and its counters, which GET /metrics then exports too. */
export interface WatchedNotificationSource {
  readonly health: WatchedNotifications;
  status(): NotificationCounters;
}

/** A watched notification path now: its name, state, and counters when a pull source was given. */
export interface WatchedNotificationPath {
  name: string;
  state: NotificationState;
  counters?: NotificationCounters;
}
const firingChannel = diagnosticsChannel.channel(channelName('alerts', 'firing'));
const resolvedChannel = diagnosticsChannel.channel(channelName('alerts', 'resolved'));

export interface Alert {
  /** One incident: rule, manager, entry (and, for `rejected`, the version). */
  id: string;
  rule: AlertRule;
  severity: 'warning' | 'critical';
  manager: string;
  entry: string;
  /** ISO time the incident started. */
  since: string;
  /** Value-free: names, versions, codes and numbers. */
  message: string;
}

/** An alert starting (`firing`) or ending (`resolved`). */
export interface AlertEvent {
  state: 'firing' | 'resolved';
  alert: Alert;
}

export interface AlertOptions {
  /** A fetch slower than this fires `slow-fetch`. Default 500 ms. */
  fetchLatencyMs?: number;
  /** This many failed fetches of one entry within `failureWindowMs` fire `failing`. Default 3. */
  failures?: number;
  /** Default 300,000 ms (5 minutes). */
  failureWindowMs?: number;
  /** A Slack-style incoming webhook: a URL, or options. Default: none. */
  webhook?: WebhookUrl | AlertWebhookOptions;
  /** Where alert lines go. Default: stderr (firing as warn; resolved as info, which the default logger drops); false for none. */
  logger?: Logger | false;
  /** Called for every alert event (in addition to `on()` listeners). */
  onAlert?: (event: AlertEvent) => void;
}

export interface AlertRules {
  /** The alerts firing now, oldest first. */
  firing(): Alert[];
  /** Subscribes to firing/resolved events. Returns a disposer. */
  on(listener: (event: AlertEvent) => void): Disposer;
  /**
   * Raises `pool-credentials` (critical) when the pool's server keeps refusing new
   * credentials, and resolves it when they work again. `name` stands for the manager
   * in the alert (for example the database's name). Returns a disposer.
   */
  watchPool(name: string, pool: WatchedPool): Disposer;
  /**
   * Raises `rotation-failed` (warning) for each secret whose rotation step failed (the
   * current version stays in service), and resolves it when that secret's rotation
   * finishes. `name` stands for the manager in the alert. Returns a disposer.
   */
  watchRotations(name: string, rotations: WatchedRotations): Disposer;
  /**
   * Raises `notifications-quiet` (warning) when the notification path goes quiet (no heartbeat
   * back) or down (subscription failed): entries are back on their own TTLs, and changes reach
   * this instance only by polling. Resolves when heartbeats come back. Returns a disposer.
   */
  watchNotifications(name: string, notifications: WatchedNotifications | WatchedNotificationSource): Disposer;
  /** The notification paths watched now (GET /metrics exports them as keyshift_notifications_state and counters). */
  notifications(): WatchedNotificationPath[];
  /** Resolves when every queued webhook message was delivered or given up on. */
  idle(): Promise<void>;
  /** Unsubscribes from the managers and abandons pending webhook deliveries. */
  close(): Promise<void>;
}

const SEVERITY: Record<AlertRule, Alert['severity']> = {
  'slow-fetch': 'warning',
  failing: 'critical',
  rejected: 'warning',
  'stale-exceeded': 'critical',
  'source-fallback': 'warning',
  'pool-credentials': 'critical',
  'rotation-failed': 'warning',
  'rollout-halted': 'warning',
  'notifications-quiet': 'warning',
};

function span(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

function webhookOptions(webhook: AlertOptions['webhook']): AlertWebhookOptions | undefined {
  if (webhook === undefined) return undefined;
  if (typeof webhook === 'object' && 'url' in webhook && !(webhook instanceof URL)) return webhook;
  return { url: webhook as WebhookUrl };
}

/**
 * Watches managers' events and keeps one incident per rule and entry: an incident
 * fires once (an event, a log line, one webhook message) and stays firing, without
 * repeating, until the entry fetches well again. Every text is built from names,
 * versions, codes and numbers: never a value.
 */
export function createAlertRules(
  managers: readonly AdminManager[],
  options: AlertOptions = {},
  clock: Clock = systemClock,
  onDelivery?: (outcome: DeliveryOutcome) => void,
): AlertRules {
  const latencyMs = options.fetchLatencyMs ?? ALERT_FETCH_LATENCY_MS;
  const threshold = options.failures ?? ALERT_FAILURES;
  const windowMs = options.failureWindowMs ?? ALERT_FAILURE_WINDOW_MS;
  const logger = options.logger === false ? undefined : (options.logger ?? stderrLogger);
  const silent: Logger = { info() {}, warn() {}, error() {} };
  const hookOptions = webhookOptions(options.webhook);
  const webhook = hookOptions ? new AlertWebhook(hookOptions, logger ?? silent, onDelivery) : undefined;
  const listeners = new Set<(event: AlertEvent) => void>();
  const active = new Map<string, Alert>();
  const failures = new Map<string, number[]>();
  const disposers: Disposer[] = [];
  const paths = new Map<string, { notifications: WatchedNotifications; counters: (() => NotificationCounters) | undefined }>();

  const deliver = (event: AlertEvent): void => {
    const { alert, state } = event;
    const fields = { alert: alert.id, rule: alert.rule, severity: alert.severity, manager: alert.manager, entry: alert.entry };
    if (state === 'firing') logger?.[alert.severity === 'critical' ? 'error' : 'warn'](fields, `alert firing: ${alert.message}`);
    else logger?.info(fields, `alert resolved: ${alert.message}`);
    if (webhook && (state === 'firing' || webhook.sendResolved)) {
      const head = state === 'firing' ? `[keyshift] FIRING ${alert.severity} ${alert.rule}` : `[keyshift] RESOLVED ${alert.rule}`;
      webhook.send(`${head}: ${alert.message}`);
    }
    const channel = state === 'firing' ? firingChannel : resolvedChannel;
    if (channel.hasSubscribers) channel.publish(event);
    for (const listener of [options.onAlert, ...listeners]) {
      try {
        listener?.(event);
      } catch {
        logger?.warn({ alert: alert.id }, 'an alert listener threw; the other listeners still ran');
      }
    }
  };

  /** `message` is built only when a new incident starts. */
  const fire = (rule: AlertRule, manager: string, entry: string, message: () => string, suffix = ''): void => {
    const id = `${rule}:${manager}:${entry}${suffix}`;
    if (active.has(id)) return;
    const alert: Alert = { id, rule, severity: SEVERITY[rule], manager, entry, since: new Date(clock.wallNow()).toISOString(), message: message() };
    active.set(id, alert);
    deliver({ state: 'firing', alert });
  };

  const resolve = (rule: AlertRule, manager: string, entry: string): void => {
    const prefix = `${rule}:${manager}:${entry}`;
    for (const [id, alert] of active) {
      if (id !== prefix && !id.startsWith(`${prefix}:`)) continue;
      active.delete(id);
      deliver({ state: 'resolved', alert });
    }
  };

  const versionOf = (ks: AdminManager, entry: string): string =>
    ks.status().entries.find((e) => e.name === entry)?.version ?? 'none';

  const onFetch = (ks: AdminManager, e: KeyshiftEvents['fetch']): void => {
    const m = ks.name;
    const key = `${m}:${e.name}`;
    if (e.durationMs > latencyMs) {
      fire('slow-fetch', m, e.name, () => `${m}: a fetch of ${e.name} from ${e.source} took ${Math.round(e.durationMs)} ms (threshold ${latencyMs} ms)`);
    } else {
      resolve('slow-fetch', m, e.name);
    }
    if (e.outcome === 'error' || e.outcome === 'not-found') {
      const now = clock.now();
      // only the last `threshold` failures matter: memory stays bounded under any failure rate
      const times = [...(failures.get(key) ?? []), now].filter((t) => now - t < windowMs).slice(-threshold);
      failures.set(key, times);
      if (times.length >= threshold) {
        const why = e.code ?? e.outcome;
        fire('failing', m, e.name, () => `${m}: ${e.name} failed ${times.length} fetches in ${span(windowMs)} (last: ${why}); serving last-known-good version ${versionOf(ks, e.name)}`);
      }
    } else if (e.outcome === 'changed' || e.outcome === 'unchanged') {
      if (active.has(`failing:${key}`)) failures.delete(key);
      resolve('failing', m, e.name);
      resolve('rejected', m, e.name);
      resolve('stale-exceeded', m, e.name);
      if (e.fallbackCode === undefined) resolve('source-fallback', m, e.name);
      else fire('source-fallback', m, e.name, () => `${m}: ${e.name} is served by ${e.source} because a preferred source failed (${e.fallbackCode})`);
    }
  };

  const onRejected = (ks: AdminManager, e: KeyshiftEvents['rejected']): void => {
    const m = ks.name;
    const message = () => `${m}: version ${e.version} of ${e.name} was rejected (${e.code}); version ${versionOf(ks, e.name)} stays in service; reason (${e.type}): ${e.reason}`;
    fire('rejected', m, e.name, message, `:${e.version}`);
  };

  const onHalted = (ks: AdminManager, e: KeyshiftEvents['rollout-halted']): void => {
    const m = ks.name;
    fire('rollout-halted', m, e.name, () => `${m}: the rollout of version ${e.version} of ${e.name} is halted (${e.by}: ${e.reason}); version ${e.servedVersion ?? versionOf(ks, e.name)} stays in service`, `:${e.version}`);
  };

  const onChange = (ks: AdminManager, e: KeyshiftEvents['change']): void => {
    // a later version served (not the step back itself) ends a halted rollout's incident
    if (e.trigger !== 'rollout') resolve('rollout-halted', ks.name, e.name);
  };

  const onStale = (ks: AdminManager, e: KeyshiftEvents['stale']): void => {
    if (!e.exceeded) return;
    const m = ks.name;
    const then = e.failClosed ? 'reads now fail closed' : 'it is still served';
    fire('stale-exceeded', m, e.name, () => `${m}: ${e.name} is ${Math.round(e.ageMs / 1000)} s old, past its maxStale of ${Math.round((e.maxStaleMs ?? 0) / 1000)} s; ${then}`);
  };

  for (const ks of managers) {
    disposers.push(ks.on('fetch', (e) => onFetch(ks, e)));
    disposers.push(ks.on('rejected', (e) => onRejected(ks, e)));
    disposers.push(ks.on('stale', (e) => onStale(ks, e)));
    disposers.push(ks.on('rollout-halted', (e) => onHalted(ks, e)));
    disposers.push(ks.on('change', (e) => onChange(ks, e)));
    // Incidents already under way when the rules attach.
    for (const entry of ks.status().entries) {
      if (!entry.staleExceeded) continue;
      const maxStaleMs = ks.entries.find((info) => info.name === entry.name)?.maxStaleMs;
      onStale(ks, { name: entry.name, ageMs: entry.ageMs ?? 0, maxStaleMs, exceeded: true, failClosed: entry.failClosed });
    }
  }

  const watch = (subscribe: () => Disposer[]): Disposer => {
    const own = subscribe();
    const dispose = (): void => {
      for (const d of own.splice(0)) d();
    };
    disposers.push(dispose);
    return dispose;
  };

  return {
    firing: () => [...active.values()],
    watchPool: (name, pool) =>
      watch(() => [
        pool.on('alert', (e) => fire('pool-credentials', name, 'credentials', () => `${name}: ${e.message} (${e.kind}, ${e.failures} failed checks, generation ${e.generation})`)),
        pool.on('recovered', () => resolve('pool-credentials', name, 'credentials')),
      ]),
    watchRotations: (name, rotations) =>
      watch(() => [
        rotations.on('alert', (e) => fire('rotation-failed', name, e.name, () => `${name}: rotation ${e.rotationId} of ${e.name} failed at stage ${e.stage} (${e.code}); the current version stays in service. ${e.message}`)),
        rotations.on('finished', (e) => resolve('rotation-failed', name, e.name)),
      ]),
    watchNotifications: (name, watched) => {
      const notifications = 'health' in watched ? watched.health : watched;
      const counters = 'health' in watched ? () => watched.status() : undefined;
      const onState = (state: NotificationState, code?: string): void => {
        if (state === 'healthy') resolve('notifications-quiet', name, 'notifications');
        else if (state === 'quiet' || state === 'down') {
          const why = state === 'quiet' ? 'no heartbeat came back through the topic' : `the path failed (${code ?? 'unknown'})`;
          fire('notifications-quiet', name, 'notifications', () => `${name}: change notifications are ${state}: ${why}; entries refresh at their own TTLs`);
        }
      };
      if (notifications.state === 'quiet' || notifications.state === 'down') onState(notifications.state);
      const path = { notifications, counters };
      paths.set(name, path);
      const forget = (): void => {
        if (paths.get(name) === path) paths.delete(name);
      };
      return watch(() => [notifications.on((c) => onState(c.state, c.error?.code)), forget]);
    },
    notifications: () =>
      [...paths].map(([name, { notifications, counters }]) => {
        const read = counters?.();
        return {
          name,
          state: notifications.state,
          ...(read === undefined
            ? {}
            : { counters: { messages: read.messages, heartbeatsSent: read.heartbeatsSent, heartbeatsBack: read.heartbeatsBack, errors: read.errors } }),
        };
      }),
    on(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    idle: async () => webhook?.idle(),
    async close() {
      for (const dispose of disposers.splice(0)) dispose();
      listeners.clear();
      await webhook?.close();
    },
  };
}
