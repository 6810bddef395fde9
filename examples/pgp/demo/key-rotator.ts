/**
 * One rotation of CHANGENOW_API_KEY, the way it goes with a real provider: keyshift's
 * rotation runner drives the ChangeNow hook (changenow-hook.ts) through its stages: the
 * provider issues a new key, one API call tests it, the runner puts it as the new
 * version, and the old key is revoked at the provider (which honours it for its grace
 * period). The services learn of the new version by the store's push, not a restart;
 * the rotation measures how long until every holder serves it.
 */
import type { AdminManager } from 'keyshift/admin';
import type { RotationRunner, RotationStage, Rotator } from 'keyshift/rotation';

export interface RotationOptions {
  /** The rotation runner over the demo's store. */
  runner: RotationRunner;
  /** The CHANGENOW_API_KEY rotator (the hook). */
  rotator: Rotator;
  /** The managers that hold CHANGENOW_API_KEY. */
  holders: readonly AdminManager[];
  /** Give up waiting for the holders after this long. Default 10,000 ms. */
  timeoutMs?: number;
}

export interface RotationResult {
  /** The store version of the new key; undefined when the rotation did not finish. */
  version: number | undefined;
  /** From the new version's put until the last holder served it; undefined if one never did. */
  propagationMs: number | undefined;
  /** The stages the rotation went through, in order. */
  stages: RotationStage[];
  /** The runner's outcome ('finished', or why not) and, when a step failed, its error code. */
  outcome: string;
  errorCode: string | undefined;
}

export const ENTRY = 'CHANGENOW_API_KEY';

export async function rotateChangeNowKey(options: RotationOptions): Promise<RotationResult> {
  const seen = new Map<AdminManager, { version: string; at: number }[]>();
  const stages: RotationStage[] = [];
  let put = performance.now();
  let notify = (): void => {};
  const disposers = options.holders.map((holder) =>
    holder.on('change', (event) => {
      if (event.name !== ENTRY) return;
      seen.set(holder, [...(seen.get(holder) ?? []), { version: event.version, at: performance.now() }]);
      notify();
    }),
  );
  disposers.push(
    options.runner.on('stage', (event) => {
      if (event.name !== ENTRY) return;
      stages.push(event.stage);
      if (event.stage === 'test') put = performance.now(); // the finish stage, the put, starts now
    }),
  );
  try {
    const result = await options.runner.run(ENTRY, options.rotator);
    const { version } = result;
    const failed = { version: undefined, propagationMs: undefined, stages, outcome: result.outcome, errorCode: result.error?.code };
    if (result.outcome !== 'finished' || version === undefined) return failed;
    const arrival = (holder: AdminManager) => seen.get(holder)?.find((s) => s.version === String(version))?.at;
    const allArrived = () => options.holders.every((h) => arrival(h) !== undefined);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.timeoutMs ?? 10_000);
      notify = () => {
        if (!allArrived()) return;
        clearTimeout(timer);
        resolve();
      };
      notify();
    });
    const outcome = { version, stages, outcome: result.outcome, errorCode: undefined };
    if (!allArrived()) return { ...outcome, propagationMs: undefined };
    return { ...outcome, propagationMs: Math.max(0, ...options.holders.map((h) => (arrival(h) as number) - put)) };
  } finally {
    for (const dispose of disposers) dispose();
  }
}
