import { ALERT_FAILURES } from '../../constants.ts';
import type { EntryStatus } from '../../core/entry-state.ts';
import type { ManagerStatus } from '../../core/manager.ts';
import type { Alert } from '../alert-rules.ts';
import { json } from '../_http.ts';
import type { UsageSnapshot } from '../usage-meter.ts';
import type { RouteContext, RouteResult } from './context.ts';

/** One word for an entry's health, as the dashboard colours it. */
export type EntryState = 'ok' | 'loading' | 'stale' | 'failing' | 'fail-closed' | 'rejected';

/** Worst first: fail-closed, failing, rejected, stale, loading, ok. */
export function entryState(entry: EntryStatus, alerts: readonly Alert[]): EntryState {
  if (entry.failClosed) return 'fail-closed';
  const mine = alerts.filter((a) => a.entry === entry.name);
  if (entry.staleExceeded || mine.some((a) => a.rule === 'failing') || (entry.version === undefined && entry.consecutiveFailures > 0)) {
    return 'failing';
  }
  if (entry.recentFailures >= ALERT_FAILURES && entry.stale) return 'failing';
  if (mine.some((a) => a.rule === 'rejected') || entry.lastError?.code === 'KS_ERR_VALUE_REJECTED') return 'rejected';
  if (entry.stale) return 'stale';
  if (entry.version === undefined) return 'loading';
  return 'ok';
}

/** The body of GET /admin/status. */
export interface AdminStatus {
  /** ISO wall-clock time of the answer. */
  time: string;
  /** Every manager's ready() resolved. */
  ready: boolean;
  managers: Array<Omit<ManagerStatus, 'entries'> & { entries: Array<EntryStatus & { state: EntryState }> }>;
  /** The alerts firing now. */
  alerts: Alert[];
  /** Store access calls observed and the month they project to. */
  usage: UsageSnapshot;
}

/**
 * GET /admin/status: every manager's value-free status (ks.status()), each entry with
 * its state, the alerts firing, and the store usage projection. Never a value.
 */
export function statusRoute(ctx: RouteContext): RouteResult {
  const alerts = ctx.alerts.firing();
  const managers = ctx.managers.map((ks) => {
    const status = ks.status();
    const mine = alerts.filter((a) => a.manager === ks.name);
    return { ...status, entries: status.entries.map((entry) => ({ ...entry, state: entryState(entry, mine) })) };
  });
  const body: AdminStatus = {
    time: new Date(ctx.clock.wallNow()).toISOString(),
    ready: ctx.managers.every((ks) => ks.isReady),
    managers,
    alerts,
    usage: ctx.usage.snapshot(),
  };
  return { response: json(200, body) };
}
