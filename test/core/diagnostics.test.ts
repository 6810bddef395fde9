import assert from 'node:assert/strict';
import * as diagnosticsChannel from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createAlertRules } from '../../src/admin/alert-rules.ts';
import { CHANNEL_EVENTS, CHANNEL_NAMES } from '../../src/core/diagnostics.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { openLocalStore } from '../../src/local-store/index.ts';
import { RotationEmitter } from '../../src/rotation/_emitter.ts';
import { addKey, createHmacKeyring, createKeyset, serializeKeyset } from '../../src/rotation/keyring/hmac-keyring.ts';
import type { RotationEvents } from '../../src/rotation/staged/rotation-result.ts';
import { createRotationRunner } from '../../src/rotation/staged/rotation-runner.ts';
import { createRotationScheduler } from '../../src/rotation/staged/rotation-scheduler.ts';
import { randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import { createFakeClock, flush, memorySource } from '../../src/testing/index.ts';
import type { Logger } from '../../src/types.ts';

/** Records what is published on `names` until the returned stop() is called. */
function record(names: readonly string[]): { messages: Array<{ channel: string; message: Record<string, unknown> }>; stop(): void } {
  const messages: Array<{ channel: string; message: Record<string, unknown> }> = [];
  const subscriptions = names.map((channel) => {
    const fn = (message: unknown): void => void messages.push({ channel, message: message as Record<string, unknown> });
    diagnosticsChannel.subscribe(channel, fn);
    return () => diagnosticsChannel.unsubscribe(channel, fn);
  });
  return {
    messages,
    stop: () => {
      for (const unsubscribe of subscriptions) unsubscribe();
    },
  };
}
const channelsOf = (part: keyof typeof CHANNEL_EVENTS): string[] => CHANNEL_EVENTS[part].map((e) => `keyshift:${part}:${e}`);
const silent: Logger = { info() {}, warn() {}, error() {} };

describe('Diagnostics channels: one naming rule, every event on a channel', () => {
  it('every channel is keyshift:<part>:<event>, and none is listed twice', () => {
    assert.ok(CHANNEL_NAMES.length >= 24, `${CHANNEL_NAMES.length} channels`);
    for (const name of CHANNEL_NAMES) assert.match(name, /^keyshift:(manager|pool|keyring|rotation|scheduler|alerts):[a-z]+(?:-[a-z]+)*$/);
    assert.equal(new Set(CHANNEL_NAMES).size, CHANNEL_NAMES.length);
  });

  it('the manager publishes each event with its name on keyshift:manager:<event>', async () => {
    const rec = record(channelsOf('manager'));
    const clock = createFakeClock();
    const source = memorySource({ values: { PORT: '8080' } });
    const ks = createKeyshift(defineSecrets({ PORT: { type: t.int() } }), { source, clock, name: 'diag', logger: false, minRefreshIntervalMs: 1 });
    try {
      await ks.ready();
      for (const next of ['not a number', '9090']) {
        source.set('PORT', next); // the memory source pushes the change; the manager refetches
        await clock.tick(5);
        await flush();
      }
      assert.equal(ks.get('PORT'), 9090);
    } finally {
      rec.stop();
      await ks.close();
    }
    const seen = new Set(rec.messages.map((m) => m.channel));
    for (const channel of ['keyshift:manager:ready', 'keyshift:manager:fetch', 'keyshift:manager:rejected', 'keyshift:manager:change']) assert.ok(seen.has(channel), `${channel} was not published (${[...seen].join(', ')})`);
    for (const { message } of rec.messages) assert.equal(message.manager, 'diag');
    const change = rec.messages.find((m) => m.channel === 'keyshift:manager:change')!.message;
    assert.equal(change.name, 'PORT');
    assert.ok(!JSON.stringify(rec.messages.map((m) => ({ ...m.message, error: undefined }))).includes('9090'), 'a value was published');
  });

  it('the rotation runner publishes on keyshift:rotation:*; the scheduler publishes its own events once and leaves the runner\'s to the runner', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ks-diag-'));
    const store = await openLocalStore({ dir });
    const rec = record([...channelsOf('rotation'), ...channelsOf('scheduler')]);
    try {
      await store.put('WEBHOOK_SECRET', 'whsec_first_value_0123456789');
      const runner = createRotationRunner({ store, logger: false });
      const heard: string[] = [];
      runner.on('finished', () => heard.push('finished'));
      const result = await runner.run('WEBHOOK_SECRET', randomSecret({ length: 32 }));
      assert.equal(result.outcome, 'finished');
      assert.deepEqual(heard, ['finished']);
      const stages = rec.messages.filter((m) => m.channel === 'keyshift:rotation:stage').map((m) => m.message.stage);
      assert.ok(stages.includes('create') && stages.includes('finish'), `stages published: ${stages.join(', ')}`);
      const finished = rec.messages.filter((m) => m.channel === 'keyshift:rotation:finished');
      assert.equal(finished.length, 1);
      assert.equal(finished[0]!.message.name, 'WEBHOOK_SECRET');

      rec.messages.length = 0;
      const scheduler = createRotationScheduler({ store, rotations: [{ name: 'WEBHOOK_SECRET', rotator: randomSecret({ length: 32 }) }], logger: false, clock: createFakeClock() });
      const forwarded: string[] = [];
      scheduler.on('finished', () => forwarded.push('finished'));
      await scheduler.rotate('WEBHOOK_SECRET');
      await scheduler.close();
      assert.deepEqual(forwarded, ['finished'], "the scheduler's on() still delivers the runner's events");
      const channels = rec.messages.map((m) => m.channel);
      assert.equal(channels.filter((c) => c === 'keyshift:rotation:finished').length, 1, 'finished is published once');
      assert.ok(channels.includes('keyshift:scheduler:triggered') && channels.includes('keyshift:scheduler:result'), channels.join(', '));
      assert.ok(!channels.some((c) => c.startsWith('keyshift:scheduler:') && !/:(triggered|result)$/.test(c)));
      const text = JSON.stringify(rec.messages);
      for (const version of await store.versions('WEBHOOK_SECRET')) {
        const access = await store.access('WEBHOOK_SECRET', version.version).catch(() => undefined);
        if (access) assert.ok(!text.includes(Buffer.from(access.value).toString('utf8')), 'a rotated value was published');
      }
    } finally {
      rec.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the keyring publishes on keyshift:keyring:* with its manager name, never key material', async () => {
    const clock = createFakeClock();
    const first = createKeyset({ now: 1_700_000_000_000, kid: 'k1', material: Buffer.alloc(32, 1) });
    const source = memorySource({ values: { SIGNING: serializeKeyset(first) } });
    const ks = createKeyshift(defineSecrets({ SIGNING: { type: t.string(), category: 'signing-key', rotation: 'keyring' } }), {
      source,
      clock,
      name: 'ring-host',
      logger: false,
      minRefreshIntervalMs: 1,
    });
    await ks.ready();
    const ring = createHmacKeyring({ keyshift: ks, entry: 'SIGNING', overlapMs: 70_000, tokenTtlMs: 60_000, clockSkewMs: 5_000, clock, logger: false });
    const rec = record(channelsOf('keyring'));
    try {
      // The ring reads the entry when it is used: each sign() after a new version reports it.
      source.set('SIGNING', serializeKeyset(addKey(first, { now: 1_700_000_100_000, kid: 'k2', material: Buffer.alloc(32, 2) })));
      await clock.tick(5);
      await flush();
      ring.sign('order=1');
      source.set('SIGNING', '{ not a keyset');
      await clock.tick(5);
      await flush();
      ring.sign('order=2');
    } finally {
      rec.stop();
      await ks.close();
    }
    const byChannel = new Map(rec.messages.map((m) => [m.channel, m.message]));
    assert.deepEqual(byChannel.get('keyshift:keyring:change')?.kids, ['k1', 'k2']);
    assert.equal(byChannel.get('keyshift:keyring:change')?.manager, 'ring-host');
    assert.ok(byChannel.has('keyshift:keyring:rejected'), [...byChannel.keys()].join(', '));
    const text = JSON.stringify(rec.messages);
    assert.ok(!text.includes(Buffer.alloc(32, 2).toString('base64url')) && !text.includes(Buffer.alloc(32, 2).toString('base64')));
  });

  it('the alert rules publish firing and resolved on keyshift:alerts:*', () => {
    const rules = createAlertRules([], { logger: false });
    const rec = record(channelsOf('alerts'));
    const listeners = new Map<string, (payload: never) => void>();
    const rotations = {
      on: (event: string, listener: (payload: never) => void) => {
        listeners.set(event, listener);
        return () => {};
      },
    };
    try {
      rules.watchRotations('billing', rotations as never);
      const alert: RotationEvents['alert'] = { name: 'API_KEY', rotationId: 'r1', stage: 'test', code: 'KS_ERR_ROTATION_FAILED', message: 'the test step failed' };
      listeners.get('alert')!(alert as never);
      listeners.get('finished')!({ name: 'API_KEY', rotationId: 'r2', version: 3, previousVersion: 2, attempts: 1, durationMs: 5 } as never);
    } finally {
      rec.stop();
    }
    assert.deepEqual(
      rec.messages.map((m) => [m.channel, (m.message as { state: string }).state, (m.message as { alert: { rule: string } }).alert.rule]),
      [
        ['keyshift:alerts:firing', 'firing', 'rotation-failed'],
        ['keyshift:alerts:resolved', 'resolved', 'rotation-failed'],
      ],
    );
  });

  it('RotationEmitter: publishes listed events with its context even when a listener throws; deliver() only calls listeners', () => {
    const emitter = new RotationEmitter<{ alert: { n: number }; stage: { n: number } }>('a test', silent, 'rotation', { manager: 'm' });
    const rec = record(['keyshift:rotation:alert', 'keyshift:rotation:stage']);
    const heard: number[] = [];
    emitter.on('alert', () => {
      throw new Error('listener failed');
    });
    emitter.on('alert', ({ n }) => heard.push(n));
    try {
      emitter.emit('alert', { n: 1 });
      emitter.deliver('stage', { n: 2 });
    } finally {
      rec.stop();
    }
    assert.deepEqual(heard, [1]);
    assert.deepEqual(rec.messages, [{ channel: 'keyshift:rotation:alert', message: { manager: 'm', n: 1 } }]);
  });

  it('docs/diagnostics.md lists every channel, and no other', () => {
    const doc = readFileSync('docs/diagnostics.md', 'utf8');
    const listed = new Set([...doc.matchAll(/^\| `(keyshift:[a-z-]+:[a-z-]+)` \|/gm)].map((m) => m[1]));
    assert.deepEqual([...listed].sort(), [...CHANNEL_NAMES].sort());
  });
});
