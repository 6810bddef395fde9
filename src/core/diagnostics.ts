import * as diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Every diagnostics channel keyshift publishes on, in one place. Payloads carry
 * names, versions, codes and durations: never a value. Metrics, alerts and audit
 * can subscribe here instead of being called from the core.
 */
export const channels = {
  fetch: diagnosticsChannel.channel('keyshift:fetch'),
  change: diagnosticsChannel.channel('keyshift:change'),
  'out-of-order': diagnosticsChannel.channel('keyshift:version:out-of-order'),
  rejected: diagnosticsChannel.channel('keyshift:value:rejected'),
  error: diagnosticsChannel.channel('keyshift:refresh:error'),
  stale: diagnosticsChannel.channel('keyshift:stale'),
  recovered: diagnosticsChannel.channel('keyshift:recovered'),
  ready: diagnosticsChannel.channel('keyshift:ready'),
} as const;

export const CHANNEL_NAMES = Object.freeze(Object.values(channels).map((c) => c.name as string));
