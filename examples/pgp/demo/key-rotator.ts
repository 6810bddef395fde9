/**
 * One rotation of CHANGENOW_API_KEY, the way it goes with a real provider: the provider
 * issues a new key (the stand-in makes it current; the old one keeps a grace period),
 * then the new key goes into the store. The services learn of it by the store's push,
 * not a restart; the rotation measures how long until every holder serves it.
 */
import { randomBytes } from 'node:crypto';
import type { AdminManager } from 'keyshift/admin';
import type { LocalStore } from 'keyshift/local-store';
import type { ChangeNowServer } from '../stand-ins/changenow-server.ts';

export interface RotationOptions {
  store: LocalStore;
  standIn: ChangeNowServer;
  /** The managers that hold CHANGENOW_API_KEY. */
  holders: readonly AdminManager[];
  /** Give up waiting for the holders after this long. Default 10,000 ms. */
  timeoutMs?: number;
}

export interface RotationResult {
  /** The store version of the new key. */
  version: number;
  /** From the store write until the last holder served the new version; undefined if one never did. */
  propagationMs: number | undefined;
}

const ENTRY = 'CHANGENOW_API_KEY';

export async function rotateChangeNowKey(options: RotationOptions): Promise<RotationResult> {
  const key = `cn_demo_${randomBytes(16).toString('hex')}`;
  const seen = new Map<AdminManager, { version: string; at: number }[]>();
  let notify = (): void => {};
  const disposers = options.holders.map((holder) =>
    holder.on('change', (event) => {
      if (event.name !== ENTRY) return;
      seen.set(holder, [...(seen.get(holder) ?? []), { version: event.version, at: performance.now() }]);
      notify();
    }),
  );
  try {
    options.standIn.rotateKey(key);
    const started = performance.now();
    const { version } = await options.store.put(ENTRY, key);
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
    if (!allArrived()) return { version, propagationMs: undefined };
    return { version, propagationMs: Math.max(...options.holders.map((h) => (arrival(h) as number) - started)) };
  } finally {
    for (const dispose of disposers) dispose();
  }
}
