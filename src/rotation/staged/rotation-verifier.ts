import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_VERIFY_ROTATION_DEADLINE_MS, DEFAULT_VERIFY_ROTATION_POLL_MS } from '../../constants.ts';

export interface VerifyRotationOptions {
  /** The entry's store name (an entry matches when its `key` or its `name` equals it). */
  entry: string;
  /** The instances to watch, as names the callbacks understand (base URLs for the CLI). */
  instances: readonly string[];
  /** Puts the new version; resolves its version id as instances report it ("7"). */
  put(): Promise<string>;
  /** One instance's status JSON (GET /admin/status); rejects when it cannot be had. */
  fetchStatus(instance: string, signal: AbortSignal): Promise<unknown>;
  /** An instance that does not serve the new version this long after the put has failed. Default 30,000 ms. */
  deadlineMs?: number;
  /** Time between two polls of one instance. Default 50 ms. */
  pollIntervalMs?: number;
  /** One status request gives up after this long. Default 2,000 ms (or the deadline, when shorter). */
  requestTimeoutMs?: number;
}

export interface InstanceReport {
  instance: string;
  converged: boolean;
  /** From the put's completion to the first status showing the new version (an upper bound: a poll's round trip). */
  propagationMs: number | undefined;
  /** The version the instance served at its last answer. */
  version: string | undefined;
  /** Failed requests the instance counted during the rotation; undefined when it exposes no counter. */
  failedRequests: number | undefined;
  /** Why the last poll failed (HTTP status, timeout), when it did. Never a response body. */
  lastError: string | undefined;
}

export interface RotationReport {
  entry: string;
  version: string;
  /** Every instance converged within the deadline and counted no failed request. */
  ok: boolean;
  deadlineMs: number;
  instances: InstanceReport[];
  /** Over the instances that converged. */
  propagationMs: { p50: number; p99: number; max: number } | undefined;
  /** Summed over the instances that expose a counter. */
  failedRequests: number;
}

interface StatusEntry {
  name?: unknown;
  key?: unknown;
  version?: unknown;
}

/**
 * The versions an instance serves for `entry`: from a keyshift manager's status
 * (`entries[]`) or the admin surface's (`managers[].entries[]`), matching the entry's
 * store key or its name.
 */
export function servedVersions(status: unknown, entry: string): string[] {
  const body = status as { entries?: unknown; managers?: unknown } | null;
  const lists: unknown[] = [];
  if (Array.isArray(body?.entries)) lists.push(body.entries);
  if (Array.isArray(body?.managers)) for (const m of body.managers) lists.push((m as { entries?: unknown } | null)?.entries);
  const versions: string[] = [];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const e of list as StatusEntry[]) {
      if ((e?.key === entry || e?.name === entry) && typeof e.version === 'string') versions.push(e.version);
    }
  }
  return versions;
}

/**
 * The failed-request counter an instance exposes in its status, if any: a number at
 * `requests.failed` (or `failedRequests`) at the top, plus the same on each manager.
 */
export function failedRequestsOf(status: unknown): number | undefined {
  const read = (o: unknown): number | undefined => {
    const x = o as { requests?: { failed?: unknown }; failedRequests?: unknown } | null;
    const n = x?.requests?.failed ?? x?.failedRequests;
    return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
  };
  const managers = (status as { managers?: unknown } | null)?.managers;
  const counts = [read(status), ...(Array.isArray(managers) ? managers.map(read) : [])].filter((n): n is number => n !== undefined);
  return counts.length === 0 ? undefined : counts.reduce((a, b) => a + b, 0);
}

/** The new version is served when every matching entry serves it (or, numerically, a later one). */
function serves(versions: readonly string[], version: string): boolean {
  const numeric = /^\d+$/.test(version);
  return versions.length > 0 && versions.every((v) => v === version || (numeric && /^\d+$/.test(v) && Number(v) >= Number(version)));
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

function describe(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  return error instanceof Error ? error.message.slice(0, 200) : typeof error;
}

/**
 * Puts a new version, then polls every instance's status until each serves it or the
 * deadline passes, and reports propagation times (p50/p99/max, nearest rank) and the
 * failed requests each instance counted between just before the put and the end.
 */
export async function verifyRotation(options: VerifyRotationOptions): Promise<RotationReport> {
  const deadlineMs = options.deadlineMs ?? DEFAULT_VERIFY_ROTATION_DEADLINE_MS;
  const pollMs = options.pollIntervalMs ?? DEFAULT_VERIFY_ROTATION_POLL_MS;
  const requestMs = Math.min(options.requestTimeoutMs ?? 2_000, deadlineMs);
  const poll = (instance: string): Promise<unknown> => options.fetchStatus(instance, AbortSignal.timeout(requestMs));
  const failedAt = async (instance: string): Promise<number | undefined> => failedRequestsOf(await poll(instance).catch(() => undefined));

  const baseline = await Promise.all(options.instances.map(failedAt));
  const version = await options.put();
  const putAt = performance.now();
  const watch = async (instance: string): Promise<Omit<InstanceReport, 'failedRequests'>> => {
    let seen: string | undefined;
    let lastError: string | undefined;
    for (;;) {
      try {
        const versions = servedVersions(await poll(instance), options.entry);
        lastError = versions.length === 0 ? `serves no entry ${options.entry}` : undefined;
        seen = versions[0] ?? seen;
        if (serves(versions, version)) return { instance, converged: true, propagationMs: performance.now() - putAt, version: seen, lastError };
      } catch (error) {
        lastError = describe(error);
      }
      const left = putAt + deadlineMs - performance.now();
      if (left <= 0) return { instance, converged: false, propagationMs: undefined, version: seen, lastError };
      await sleep(Math.min(pollMs, left));
    }
  };
  const watched = await Promise.all(options.instances.map(watch));
  const after = await Promise.all(options.instances.map(failedAt));
  const instances = watched.map((report, i): InstanceReport => {
    const before = baseline[i];
    const now = after[i];
    return { ...report, failedRequests: before === undefined || now === undefined ? undefined : Math.max(0, now - before) };
  });
  const times = instances.flatMap((r) => (r.propagationMs === undefined ? [] : [r.propagationMs])).sort((a, b) => a - b);
  const failedRequests = instances.reduce((n, r) => n + (r.failedRequests ?? 0), 0);
  return {
    entry: options.entry,
    version,
    ok: instances.every((r) => r.converged) && failedRequests === 0,
    deadlineMs,
    instances,
    propagationMs: times.length === 0 ? undefined : { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.at(-1) as number },
    failedRequests,
  };
}
