/**
 * A fleet report: what one instance serves, value-free (its identity, and the version
 * of each entry of each manager). Instances publish them to a Pub/Sub topic on change,
 * every few minutes and when pinged; `keyshift fleet` reads them, so a fleet's view
 * needs no address per instance.
 */
import type { InstanceIdentity } from '../core/instance-identity.ts';

/** Attribute `eventType` of a report, and of the ping that asks every instance for one. */
export const FLEET_REPORT_EVENT = 'KEYSHIFT_FLEET_REPORT';
export const FLEET_PING_EVENT = 'KEYSHIFT_FLEET_PING';

export interface FleetReportEntry {
  manager: string;
  name: string;
  /** The entry's store key, when it differs from its name. */
  key?: string;
  /** The version served; undefined before the first load. */
  version: string | undefined;
}

export interface FleetReport {
  instance: InstanceIdentity;
  /** Wall-clock ms when sent. */
  sentAt: number;
  reason: 'start' | 'change' | 'interval' | 'ping';
  entries: FleetReportEntry[];
}

const str = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** Parses a report from a message's data; undefined when it is not one (never throws). */
export function parseFleetReport(data: Buffer | string): FleetReport | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return undefined;
  }
  const r = parsed as Partial<FleetReport>;
  if (typeof r !== 'object' || r === null || !str(r.instance?.instanceId) || typeof r.sentAt !== 'number' || !Array.isArray(r.entries)) return undefined;
  if (!['start', 'change', 'interval', 'ping'].includes(r.reason as string) || r.entries.length > 10_000) return undefined;
  const entries = r.entries
    .filter((e): e is FleetReportEntry => str(e?.manager) && str(e?.name) && (e.version === undefined || str(e.version, 128)))
    .map((e) => ({ manager: e.manager, name: e.name, ...(str(e.key) ? { key: e.key } : {}), version: e.version }));
  return { instance: r.instance as InstanceIdentity, sentAt: r.sentAt, reason: r.reason as FleetReport['reason'], entries };
}

/** Orders versions: numbers numerically, then anything else as text. */
function newer(a: string, b: string): boolean {
  const [x, y] = [Number(a), Number(b)];
  return Number.isInteger(x) && Number.isInteger(y) ? x > y : a > b;
}

export interface FleetEntryView {
  manager: string;
  name: string;
  /** The newest version any instance serves. */
  newest: string | undefined;
  /** Instance ids serving each version. */
  byVersion: Record<string, string[]>;
  /** Instance ids not serving the newest version. */
  lagging: string[];
}

/** The latest report of each instance, folded into: for each entry, who serves what and who lags. */
export function summarizeFleet(reports: Iterable<FleetReport>): { instances: FleetReport[]; entries: FleetEntryView[] } {
  const latest = new Map<string, FleetReport>();
  for (const r of reports) {
    const seen = latest.get(r.instance.instanceId);
    if (!seen || seen.sentAt <= r.sentAt) latest.set(r.instance.instanceId, r);
  }
  const views = new Map<string, FleetEntryView>();
  for (const r of latest.values()) {
    for (const e of r.entries) {
      const key = `${e.manager}\u0000${e.name}`;
      const view = views.get(key) ?? { manager: e.manager, name: e.name, newest: undefined, byVersion: {}, lagging: [] };
      views.set(key, view);
      const version = e.version ?? 'none';
      const ids = view.byVersion[version] ?? [];
      ids.push(r.instance.instanceId);
      view.byVersion[version] = ids;
      if (e.version !== undefined && (view.newest === undefined || newer(e.version, view.newest))) view.newest = e.version;
    }
  }
  for (const view of views.values()) {
    view.lagging = Object.entries(view.byVersion)
      .filter(([version]) => version !== view.newest)
      .flatMap(([, ids]) => ids)
      .sort();
  }
  return { instances: [...latest.values()], entries: [...views.values()].sort((a, b) => `${a.manager}/${a.name}`.localeCompare(`${b.manager}/${b.name}`)) };
}
