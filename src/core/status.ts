import { fractionAt } from './adoption.ts';
import type { EntryState, EntryStatus, RolloutStatus } from './entry-state.ts';

/** The value-free status of one entry. Only a non-secret URL shows anything of its value: scheme and host. */
export function statusOf(state: EntryState, now: number): EntryStatus {
  const { info } = state;
  const total = state.successes + state.failures;
  const display =
    state.hasValue && !info.secret && state.value !== null && state.codec.display ? state.codec.display(state.value) : undefined;
  return {
    name: info.name,
    key: info.key,
    kind: info.kind,
    category: info.category,
    type: info.type,
    secret: info.secret,
    rotation: info.rotation,
    source: state.servedBy,
    version: state.version,
    fetchedAt: state.hasValue ? new Date(state.fetchedAtWall).toISOString() : undefined,
    ageMs: state.hasValue ? Math.max(0, now - state.fetchedAt) : undefined,
    ttlMs: info.ttlMs,
    stale: state.hasValue && state.consecutiveFailures > 0,
    staleExceeded: state.staleExceeded,
    failClosed: state.failClosed,
    consecutiveFailures: state.consecutiveFailures,
    recentFailures: state.recentFailures.length,
    lastError: state.lastError?.toJSON(),
    latencyMs: { p50: state.latency(0.5), p99: state.latency(0.99) },
    fetches: { success: state.successes, failure: state.failures },
    successRate: total === 0 ? undefined : state.successes / total,
    display,
    rollout: rolloutOf(state, now),
    rolledOut: state.rolledOut,
  };
}

function rolloutOf(state: EntryState, now: number): RolloutStatus | undefined {
  const r = state.rollout;
  const policy = state.info.adoption;
  if (r === undefined || policy === undefined) return undefined;
  const elapsedMs = Math.max(0, now - r.firstSeenAt);
  return {
    version: r.version,
    fraction: r.halted ? 0 : fractionAt(policy, elapsedMs),
    serving: r.serving,
    failures: r.failures,
    maxFailures: policy.maxFailures,
    halted: r.halted !== undefined,
    haltedBy: r.halted,
    elapsedMs,
    bakeMs: policy.bakeMs,
  };
}
