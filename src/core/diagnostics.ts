import * as diagnosticsChannel from 'node:diagnostics_channel';

/**
 * Every diagnostics channel keyshift publishes on, in one place, named by one rule:
 * `keyshift:<part>:<event>`, where `<part>` is the emitter (the manager, the rotating
 * pool, the keyring, the rotation runner, the scheduler, the alert rules) and `<event>`
 * is the event's name as that emitter's `on()` takes it. Each message is the event's
 * payload (plus the manager's name, for the manager, the pool and the keyring). Payloads
 * carry names, versions, codes and durations: never a value. docs/diagnostics.md lists
 * them all.
 */
export const CHANNEL_EVENTS = {
  manager: ['fetch', 'change', 'out-of-order', 'rollout-halted', 'rejected', 'error', 'stale', 'recovered', 'ready'],
  pool: ['swap', 'drained', 'auth-failure', 'alert', 'recovered', 'error'],
  keyring: ['change', 'rejected', 'refresh'],
  rotation: ['stage', 'finished', 'failed', 'alert'],
  scheduler: ['triggered', 'result'],
  alerts: ['firing', 'resolved'],
} as const;

/** An emitter that publishes on diagnostics channels. */
export type ChannelPart = keyof typeof CHANNEL_EVENTS;
/** The events of a part that have a channel. */
export type ChannelEvent<P extends ChannelPart> = (typeof CHANNEL_EVENTS)[P][number];

/** `keyshift:<part>:<event>`. */
export function channelName<P extends ChannelPart>(part: P, event: ChannelEvent<P>): string {
  return `keyshift:${part}:${event}`;
}

/** The channel of a part's event, or undefined when the event has none (the scheduler's forwarded runner events). */
export function channelOf(part: ChannelPart, event: string): diagnosticsChannel.Channel | undefined {
  const events: readonly string[] = CHANNEL_EVENTS[part];
  return events.includes(event) ? diagnosticsChannel.channel(`keyshift:${part}:${event}`) : undefined;
}

/** The manager's channels, by event name. */
export const channels = {
  fetch: diagnosticsChannel.channel(channelName('manager', 'fetch')),
  change: diagnosticsChannel.channel(channelName('manager', 'change')),
  'out-of-order': diagnosticsChannel.channel(channelName('manager', 'out-of-order')),
  'rollout-halted': diagnosticsChannel.channel(channelName('manager', 'rollout-halted')),
  rejected: diagnosticsChannel.channel(channelName('manager', 'rejected')),
  error: diagnosticsChannel.channel(channelName('manager', 'error')),
  stale: diagnosticsChannel.channel(channelName('manager', 'stale')),
  recovered: diagnosticsChannel.channel(channelName('manager', 'recovered')),
  ready: diagnosticsChannel.channel(channelName('manager', 'ready')),
} as const;

/** Every channel name, of every part. */
export const CHANNEL_NAMES: readonly string[] = Object.freeze(
  Object.entries(CHANNEL_EVENTS).flatMap(([part, events]) => events.map((event) => `keyshift:${part}:${event}`)),
);
