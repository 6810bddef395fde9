import type { EntryInfo } from '../core/define-secrets.ts';
import type { Disposer } from '../types.ts';
import type { NotificationState } from '../core/notification-health.ts';
import { ALERT_RULES, type Alert, type WatchedNotificationPath } from './alert-rules.ts';
import type { DeliveryOutcome } from './alert-webhook.ts';
import type { AuditAction } from './audit-log.ts';
import type { AdminManager } from './types.ts';

/** Prometheus metrics of one admin handler, in their own registry (never prom-client's global one). */
export interface AdminMetrics {
  readonly contentType: string;
  /** The exposition text. */
  render(): Promise<string>;
  /** Counts one admin request by action and status code. */
  countRequest(action: AuditAction, status: number): void;
  /** Counts one alert webhook delivery. */
  countDelivery(outcome: DeliveryOutcome): void;
  /** Unsubscribes from the managers. */
  close(): void;
}

const NOTIFICATION_STATES: readonly NotificationState[] = ['unknown', 'healthy', 'quiet', 'down'];

const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Builds the metrics, importing prom-client (an optional peer) only now. Resolves
 * undefined when prom-client is not installed. Every label value comes from a closed
 * set: declared manager and entry names, categories, source kinds, and fixed enums
 * (outcome, trigger, rule, severity, action, status code, notification state), and the
 * names given to alerts.watchNotifications. No label ever holds a value.
 */
export async function createAdminMetrics(
  managers: readonly AdminManager[],
  firing: () => Alert[],
  notifications: () => WatchedNotificationPath[] = () => [],
): Promise<AdminMetrics | undefined> {
  let prom: typeof import('prom-client');
  try {
    prom = await import('prom-client');
  } catch {
    return undefined;
  }
  const registry = new prom.Registry();
  const registers = [registry];
  const fetches = new prom.Counter({
    name: 'keyshift_fetches_total',
    help: 'Store fetches by entry and outcome (changed, unchanged, rejected, not-found, error).',
    labelNames: ['manager', 'entry', 'category', 'source', 'outcome'] as const,
    registers,
  });
  const duration = new prom.Histogram({
    name: 'keyshift_fetch_duration_seconds',
    help: 'Store fetch duration.',
    labelNames: ['manager', 'entry', 'source'] as const,
    buckets: DURATION_BUCKETS_S,
    registers,
  });
  const refreshes = new prom.Counter({
    name: 'keyshift_refreshes_total',
    help: 'Fetches by what triggered them (startup, ttl, retry, push, admin, manual, recheck).',
    labelNames: ['manager', 'entry', 'trigger'] as const,
    registers,
  });
  const rejected = new prom.Counter({
    name: 'keyshift_rejected_versions_total',
    help: 'Versions refused by their type or validator; the previous value stayed.',
    labelNames: ['manager', 'entry', 'category'] as const,
    registers,
  });
  const outOfOrder = new prom.Counter({
    name: 'keyshift_out_of_order_versions_total',
    help: 'Answers older than the version served (a lagging replica or read), not applied; the served version stayed.',
    labelNames: ['manager', 'entry', 'category', 'source'] as const,
    registers,
  });
  const halted = new prom.Counter({
    name: 'keyshift_rollouts_halted_total',
    help: 'Canary rollouts halted on this instance (failures past the threshold, a rejected version, a halt marker); the previous version stayed or came back.',
    labelNames: ['manager', 'entry', 'category', 'by'] as const,
    registers,
  });
  const errors = new prom.Counter({
    name: 'keyshift_errors_total',
    help: 'Error events: failed fetches and failures of background work (listeners, timers, pushes). Fetch failures by entry are in keyshift_fetches_total.',
    labelNames: ['manager'] as const,
    registers,
  });
  const accesses = new prom.Counter({
    name: 'keyshift_store_accesses_total',
    help: 'Store access calls (what Secret Manager bills).',
    labelNames: ['manager', 'source'] as const,
    registers,
  });
  const requests = new prom.Counter({
    name: 'keyshift_admin_requests_total',
    help: 'Admin requests by action and status code.',
    labelNames: ['action', 'status'] as const,
    registers,
  });
  const deliveries = new prom.Counter({
    name: 'keyshift_alert_webhook_deliveries_total',
    help: 'Alert webhook messages by outcome (sent, failed, dropped).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const perEntry = (help: string, name: string, read: (entry: ReturnType<AdminManager['status']>['entries'][number]) => number | undefined) =>
    new prom.Gauge({
      name,
      help,
      labelNames: ['manager', 'entry', 'category'] as const,
      registers,
      collect() {
        this.reset();
        for (const ks of managers) {
          for (const entry of ks.status().entries) {
            const value = read(entry);
            if (value !== undefined) this.set({ manager: ks.name, entry: entry.name, category: entry.category }, value);
          }
        }
      },
    });
  perEntry('Seconds since the value was last fetched successfully.', 'keyshift_value_age_seconds', (e) => (e.ageMs === undefined ? undefined : e.ageMs / 1000));
  perEntry('1 while refreshes fail and the last-known-good value is served.', 'keyshift_stale', (e) => (e.kind === 'dynamic' ? Number(e.stale) : undefined));
  perEntry('1 once the value is older than its maxStale.', 'keyshift_stale_exceeded', (e) => (e.kind === 'dynamic' ? Number(e.staleExceeded) : undefined));
  perEntry('1 while reads of a fail-closed entry throw.', 'keyshift_fail_closed', (e) => (e.kind === 'dynamic' ? Number(e.failClosed) : undefined));
  new prom.Gauge({
    name: 'keyshift_ready',
    help: '1 once ready() resolved.',
    labelNames: ['manager'] as const,
    registers,
    collect() {
      for (const ks of managers) this.set({ manager: ks.name }, Number(ks.isReady));
    },
  });
  new prom.Gauge({
    name: 'keyshift_reads_outside_snapshot',
    help: 'Reads made while request snapshots were active but outside any (a lost AsyncLocalStorage context).',
    labelNames: ['manager'] as const,
    registers,
    collect() {
      for (const ks of managers) this.set({ manager: ks.name }, ks.status().readsOutsideSnapshot);
    },
  });
  new prom.Gauge({
    name: 'keyshift_alerts_firing',
    help: 'Alerts firing now, by rule and severity.',
    labelNames: ['rule', 'severity'] as const,
    registers,
    collect() {
      this.reset();
      for (const rule of ALERT_RULES) {
        for (const severity of ['warning', 'critical']) {
          const count = firing().filter((a) => a.rule === rule && a.severity === severity).length;
          if (count > 0) this.set({ rule, severity }, count);
        }
      }
    },
  });
  new prom.Gauge({
    name: 'keyshift_notifications_state',
    help: 'State of each watched notification path (alerts.watchNotifications): 1 for the current state (unknown, healthy, quiet, down), 0 for the others.',
    labelNames: ['manager', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const path of notifications()) {
        for (const state of NOTIFICATION_STATES) this.set({ manager: path.name, state }, Number(path.state === state));
      }
    },
  });
  const pathCounter = (name: string, help: string, read: (counters: NonNullable<WatchedNotificationPath['counters']>) => number) =>
    new prom.Counter({
      name,
      help,
      labelNames: ['manager'] as const,
      registers,
      collect() {
        this.reset();
        for (const path of notifications()) if (path.counters !== undefined) this.inc({ manager: path.name }, read(path.counters));
      },
    });
  pathCounter('keyshift_notification_messages_total', 'Messages received on a watched pull subscription.', (c) => c.messages);
  pathCounter('keyshift_notification_heartbeats_sent_total', 'Heartbeats published through the notification topic.', (c) => c.heartbeatsSent);
  pathCounter('keyshift_notification_heartbeats_back_total', 'Heartbeats that came back through the subscription.', (c) => c.heartbeatsBack);
  pathCounter('keyshift_notification_errors_total', 'Failures of the notification path (subscription, stream, heartbeat topic).', (c) => c.errors);

  const disposers: Disposer[] = [];
  for (const ks of managers) {
    const declared = new Map<string, EntryInfo>(ks.entries.map((e) => [e.name, e]));
    const manager = ks.name;
    disposers.push(
      ks.on('fetch', (e) => {
        const info = declared.get(e.name);
        if (!info) return;
        fetches.inc({ manager, entry: e.name, category: info.category, source: e.source, outcome: e.outcome });
        duration.observe({ manager, entry: e.name, source: e.source }, e.durationMs / 1000);
        refreshes.inc({ manager, entry: e.name, trigger: e.trigger });
        accesses.inc({ manager, source: e.source });
      }),
      ks.on('rejected', (e) => {
        const info = declared.get(e.name);
        if (info) rejected.inc({ manager, entry: e.name, category: info.category });
      }),
      ks.on('out-of-order', (e) => {
        const info = declared.get(e.name);
        if (info) outOfOrder.inc({ manager, entry: e.name, category: info.category, source: e.source });
      }),
      ks.on('rollout-halted', (e) => {
        const info = declared.get(e.name);
        if (info) halted.inc({ manager, entry: e.name, category: info.category, by: e.by });
      }),
      ks.on('error', () => errors.inc({ manager })),
    );
  }

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    countRequest: (action, status) => requests.inc({ action, status: String(status) }),
    countDelivery: (outcome) => deliveries.inc({ outcome }),
    close() {
      for (const dispose of disposers.splice(0)) dispose();
    },
  };
}
