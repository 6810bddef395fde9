/**
 * Shared by every hardening test file: unhandled rejections and uncaught exceptions
 * fail the test they happen in (on top of the runner's --unhandled-rejections=strict),
 * and the active-resource check of plan test 37.
 */
import assert from 'node:assert/strict';
import { after, afterEach } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

/** What went unhandled, by type and name only: a message could carry a value. */
function describeFailure(kind: string, reason: unknown): string {
  const name = reason instanceof Error ? `${reason.name}${'code' in reason ? ` ${String(reason.code)}` : ''}` : typeof reason;
  return `${kind}: ${name}`;
}

/**
 * Makes an unhandled rejection or uncaught exception anywhere in this file fail the
 * test during which it happened (checked after each test and once at the end).
 * Call once at the top of a test file.
 */
export function failOnUnhandled(): void {
  const failures: string[] = [];
  const onRejection = (reason: unknown): void => void failures.push(describeFailure('unhandledRejection', reason));
  const onException = (error: unknown): void => void failures.push(describeFailure('uncaughtException', error));
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const check = (): void => {
    const seen = failures.splice(0);
    assert.deepEqual(seen, [], `unhandled failures: ${seen.join('; ')}`);
  };
  afterEach(check);
  after(() => {
    check();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });
}

/** The kinds of resource that would keep a process alive or leak (F7). */
const TRACKED = /^(Timeout|Immediate|FSEventWrap|StatWatcher|TCPSocketWrap|TCPServerWrap|TCPWrap|PipeWrap|UDPWrap|ProcessWrap|Http2Session|Http2Stream|TTYWrap|SignalWrap|ChildProcess)$/;

/** Counts of active resources by type (process.getActiveResourcesInfo), tracked types only. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) {
    if (TRACKED.test(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  return counts;
}

/** Resources above `baseline`, as "Type +n" strings; empty when back at (or under) it. */
export function resourcesAbove(baseline: ReadonlyMap<string, number>): string[] {
  const extra: string[] = [];
  for (const [type, n] of activeResources()) {
    const base = baseline.get(type) ?? 0;
    if (n > base) extra.push(`${type} +${n - base}`);
  }
  return extra;
}

/**
 * Waits (up to `waitMs`, polling on the event loop) for the active resources to be
 * back at `baseline`: sockets and servers close a tick or two after close() resolves.
 * Returns what is still above it (empty on success) so the caller can assert and report.
 */
export async function settleResources(baseline: ReadonlyMap<string, number>, waitMs = 2_000): Promise<string[]> {
  const started = performance.now();
  for (;;) {
    const extra = resourcesAbove(baseline);
    if (extra.length === 0 || performance.now() - started > waitMs) return extra;
    await sleep(10);
  }
}

/** Asserts the active resources return to `baseline` (plan test 37's check, run at the end of tests). */
export async function assertBackToBaseline(baseline: ReadonlyMap<string, number>, what = 'close()'): Promise<void> {
  const extra = await settleResources(baseline);
  assert.deepEqual(extra, [], `resources left after ${what}: ${extra.join(', ')}`);
}

/** Polls `check` on the event loop until it holds or `waitMs` passes (no fixed sleep in assertions). */
export async function until(check: () => boolean, waitMs = 5_000, what = 'condition'): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > waitMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(2);
  }
}
