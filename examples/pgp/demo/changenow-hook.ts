/**
 * The rotation hook of CHANGENOW_API_KEY: keyshift cannot make a ChangeNow key, so the
 * hook asks the provider for one. Here the provider is the local stand-in; against the
 * real ChangeNow, `issueKey` and `revokeKey` are calls to its account API.
 *
 *   create   the provider issues a new key; it works alongside the current one
 *   test     one cheap authenticated call with the new key (an estimate)
 *   finish   keyshift puts it as the new version: every service serves it (push or TTL)
 *   cleanup  the old key is revoked at the provider (which still honours it for its grace)
 */
import { externalHook, type Rotator } from 'keyshift/rotation';
import type { ChangeNowServer } from '../stand-ins/changenow-server.ts';

/** What the hook needs of the provider: its API root and its key management. */
export type ChangeNowAccount = Pick<ChangeNowServer, 'url' | 'issueKey' | 'revokeKey'>;

export interface ChangeNowHookOptions {
  /** How long after the new version is served the old key is revoked. Default 0: the provider's grace covers the fleet. */
  revokeAfterMs?: number;
}

export function changeNowHook(account: ChangeNowAccount, options: ChangeNowHookOptions = {}): Rotator {
  return externalHook({
    provider: 'changenow',
    issue: async () => account.issueKey(),
    async verify(key, ctx) {
      const response = await fetch(`${account.url}/exchange/estimated-amount?fromCurrency=usdt&toCurrency=eth&fromAmount=1`, {
        headers: { 'x-changenow-api-key': key },
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`ChangeNow refused the new key: HTTP ${response.status}`);
    },
    revoke: async (oldKey) => account.revokeKey(oldKey),
    revokeAfterMs: options.revokeAfterMs ?? 0,
  });
}
