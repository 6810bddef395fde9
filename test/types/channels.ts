// Every event of every emitter has a diagnostics channel: the channel lists in
// core/diagnostics.ts name exactly the events of each part's `on()`.
import type { AlertEvent } from 'keyshift/admin';
import type { KeyringEvents } from 'keyshift/rotation/keyring';
import type { RotatingPoolEvents } from 'keyshift/rotation/pg';
import type { RotationEvents, RotationSchedulerEvents } from 'keyshift/rotation';
import type { EventName } from 'keyshift';
import type { ChannelEvent } from '../../src/core/diagnostics.ts';
import { type Equal, expectType } from './_expect.ts';

expectType<Equal<ChannelEvent<'manager'>, EventName>>();
expectType<Equal<ChannelEvent<'pool'>, keyof RotatingPoolEvents>>();
expectType<Equal<ChannelEvent<'keyring'>, keyof KeyringEvents>>();
expectType<Equal<ChannelEvent<'rotation'>, keyof RotationEvents>>();
// The scheduler's own events; the runner's it forwards are on the runner's channels.
expectType<Equal<ChannelEvent<'scheduler'>, Exclude<keyof RotationSchedulerEvents, keyof RotationEvents>>>();
expectType<Equal<ChannelEvent<'alerts'>, AlertEvent['state']>>();
