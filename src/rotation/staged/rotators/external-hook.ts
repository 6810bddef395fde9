/**
 * Third-party API keys (ChangeNow, NowPayments, SendGrid...) are issued by the
 * provider, not by us: their rotator is a hook you fill in with the provider's calls.
 *
 *   externalHook({
 *     provider: 'changenow',
 *     issue: async () => changeNowAdmin.createApiKey(),            // the provider makes the new key
 *     verify: async (key) => { await fetch(url, { headers: { 'x-changenow-api-key': key } }) ... },
 *     revoke: async (oldKey) => changeNowAdmin.deleteApiKey(oldKey),  // after the fleet moved over
 *     revokeAfterMs: 15 * 60_000,
 *   })
 *
 * `issue` runs once per rotation: the key it returns is stored (encrypted) as the
 * pending version before anything else, so a retry after a failed `verify` reuses it
 * instead of asking the provider for another. `verify` should make one cheap
 * authenticated call. The old key is revoked only `revokeAfterMs` after the new
 * version is served, so every instance has picked it up (its TTL, or the push). A
 * hook's errors are wrapped: their messages (which may echo a key) are never logged.
 */
import type { FinishedContext, PendingContext, RotationContext, Rotator } from '../rotator.ts';
import { ErrorCodes, KeyshiftError } from '../../../errors.ts';

export interface ExternalHookOptions {
  /** The provider, in records and alerts: letters, digits and dashes ('changenow'). */
  provider: string;
  /** Asks the provider for a new key and resolves it. */
  issue: (ctx: RotationContext) => Promise<string>;
  /** Proves the new key works with one cheap authenticated call; throw to stop the rotation. Default: none. */
  verify?: (key: string, ctx: PendingContext) => Promise<void>;
  /** Revokes the old key at the provider once the overlap has passed. Default: none (the provider expires it). */
  revoke?: (oldKey: string, ctx: PendingContext) => Promise<void>;
  /** How long the old key stays valid after the new one is served. Default 0. */
  revokeAfterMs?: number;
}

export function externalHook(options: ExternalHookOptions): Rotator {
  if (!/^[a-z0-9][a-z0-9-]{0,39}$/i.test(options.provider)) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'externalHook(): provider must be 1 to 40 letters, digits or dashes');
  }
  if (typeof options.issue !== 'function') throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'externalHook(): issue must be a function');
  const { verify, revoke } = options;
  return {
    kind: `external-hook:${options.provider}`,
    async create(ctx) {
      const key = await options.issue(ctx);
      if (typeof key !== 'string' || key === '') {
        throw new KeyshiftError(ErrorCodes.ROTATION_REFUSED, `the ${options.provider} issue hook returned no key`, { entry: ctx.name });
      }
      return key;
    },
    ...(verify === undefined ? {} : { test: (ctx: PendingContext) => verify(ctx.pending.text(), ctx) }),
    ...(revoke === undefined
      ? {}
      : {
          cleanup: async (ctx: FinishedContext) => {
            if (ctx.previous !== undefined) await revoke(ctx.previous.text(), ctx);
          },
          cleanupAfterMs: options.revokeAfterMs ?? 0,
        }),
  };
}
