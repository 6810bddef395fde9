import type { AgentSnapshot } from '../../src/agent/agent-view.ts';

/** A snapshot built by hand, for renderer tests. */
export function snapshotOf(values: Record<string, string | null>, generation = 1, withheld: readonly string[] = []): AgentSnapshot {
  const entries = new Map(Object.entries(values).map(([name, value]) => [name, { value, version: String(generation) }]));
  return { generation, entries, withheld: new Set(withheld), changedAt: new Map([...entries.keys()].map((n) => [n, generation])) };
}
