/**
 * The pull subscription's message handling, offline: there is no Pub/Sub server here,
 * so the wiring is checked with a stand-in subscription (an EventEmitter) and the
 * handler with plain messages. The real StreamingPull connection is not tested.
 */
import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { PubSub } from '@google-cloud/pubsub';
import { ErrorCodes, type KeyshiftError } from '../../src/errors.ts';
import { createPullMessageHandler, gcpPubSubPull, type PullMessage } from '../../src/sources/gcp-pubsub-pull.ts';

let nextId = 1;
function message(attributes: Record<string, string>, id = String(nextId++)) {
  const m = { id, attributes, acked: 0, nacked: 0, ack: () => void m.acked++, nack: () => void m.nacked++ };
  return m;
}
const versionAdd = (secret = 'API_KEY') => ({
  eventType: 'SECRET_VERSION_ADD',
  secretId: `projects/p/secrets/${secret}`,
  versionId: `projects/p/secrets/${secret}/versions/2`,
  dataFormat: 'JSON_API_V1',
});

describe('gcpPubSubPull: message handling', () => {
  it('invalidates the entries of a Secret Manager event, then acks', async () => {
    const invalidated: (readonly string[] | undefined)[] = [];
    const handle = createPullMessageHandler({
      source: { invalidate: (n) => void invalidated.push(n), entriesFor: (r) => (r.endsWith('/API_KEY') ? ['API_KEY'] : []) },
    });
    const m = message(versionAdd());
    await handle(m as unknown as PullMessage);
    assert.deepEqual(invalidated, [['API_KEY']]);
    assert.deepEqual([m.acked, m.nacked], [1, 0]);
  });

  it('acks a redelivery, an unknown secret and harmless events without invalidating', async () => {
    const calls: string[][] = [];
    const handle = createPullMessageHandler({
      onInvalidate: (names) => void calls.push([...names]),
      entriesFor: (r) => (r.endsWith('/API_KEY') ? ['API_KEY'] : []),
    });
    const first = message(versionAdd(), 'same-id');
    const again = message(versionAdd(), 'same-id');
    const unknown = message(versionAdd('SOMEONE_ELSES'));
    const topic = message({ eventType: 'TOPIC_CONFIGURED' });
    for (const m of [first, again, unknown, topic]) await handle(m as unknown as PullMessage);
    assert.deepEqual(calls, [['API_KEY']]);
    for (const m of [first, again, unknown, topic]) assert.deepEqual([m.acked, m.nacked], [1, 0]);
  });

  it('acks and reports a malformed message (redelivery would not fix it)', async () => {
    const errors: KeyshiftError[] = [];
    const handle = createPullMessageHandler({ onInvalidate: () => assert.fail('invalidated'), onError: (e) => void errors.push(e) });
    const m = message({ eventType: 'SECRET_VERSION_ADD', secretId: 'not a resource name' });
    await handle(m as unknown as PullMessage);
    assert.deepEqual([m.acked, m.nacked], [1, 0]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, ErrorCodes.VALUE_REJECTED);
  });

  it('acks an event type it does not know and reports it as ignored, not as an error', async () => {
    const errors: KeyshiftError[] = [];
    const ignored: string[] = [];
    const handle = createPullMessageHandler({
      onInvalidate: () => assert.fail('invalidated'),
      onError: (e) => void errors.push(e),
      onIgnored: (e) => void ignored.push(e.eventType),
    });
    const m = message({ eventType: 'SECRET_EXPLODED', secretId: 'projects/p/secrets/X' });
    await handle(m as unknown as PullMessage);
    assert.deepEqual([m.acked, m.nacked], [1, 0]);
    assert.deepEqual(ignored, ['SECRET_EXPLODED']);
    assert.equal(errors.length, 0);
  });

  it('nacks when the invalidation throws, and handles the redelivery', async () => {
    let fail = true;
    const handle = createPullMessageHandler({
      onInvalidate: () => {
        if (fail) throw new Error('listener down');
      },
    });
    const m = message(versionAdd(), 'retry-me');
    await handle(m as unknown as PullMessage);
    assert.deepEqual([m.acked, m.nacked], [0, 1]);
    fail = false;
    const redelivered = message(versionAdd(), 'retry-me');
    await handle(redelivered as unknown as PullMessage);
    assert.deepEqual([redelivered.acked, redelivered.nacked], [1, 0]);
  });

  it('listens on the named subscription of a given client, reports its errors, and detaches on close()', async () => {
    const subscription = Object.assign(new EventEmitter(), { closed: 0, close: async () => void subscription.closed++ });
    const names: string[] = [];
    const client = {
      subscription: (name: string) => {
        names.push(name);
        return subscription;
      },
      close: () => assert.fail('closed a client it does not own'),
    };
    const errors: KeyshiftError[] = [];
    const seen: string[][] = [];
    const pull = await gcpPubSubPull({
      subscription: 'projects/p/subscriptions/instance-1',
      client: client as unknown as PubSub,
      onInvalidate: (n) => void seen.push([...n]),
      onError: (e) => void errors.push(e),
    });
    assert.deepEqual(names, ['projects/p/subscriptions/instance-1']);
    const m = message(versionAdd());
    subscription.emit('message', m);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [['API_KEY']]);
    assert.equal(m.acked, 1);
    subscription.emit('error', Object.assign(new Error('raw service text'), { code: 14 }));
    assert.equal(errors[0]!.code, ErrorCodes.NOTIFICATIONS_UNAVAILABLE);
    assert.ok(!errors[0]!.message.includes('raw service text'));
    await pull.close();
    await pull.close();
    assert.equal(subscription.closed, 1);
    assert.equal(subscription.listenerCount('message'), 0);
  });

  it('refuses a malformed subscription name, a missing target, and both or neither of subscription and instanceSubscription', async () => {
    await assert.rejects(gcpPubSubPull({ onInvalidate: () => {} }), { code: ErrorCodes.INVALID_DECLARATION });
    await assert.rejects(gcpPubSubPull({ subscription: 'sub-1', instanceSubscription: { topic: 'projects/p/topics/secrets' }, onInvalidate: () => {} }), {
      code: ErrorCodes.INVALID_DECLARATION,
    });
    await assert.rejects(gcpPubSubPull({ instanceSubscription: { topic: 'projects/p/topics/secrets', expireAfterMs: 3_600_000 }, onInvalidate: () => {} }), /at least 1 day/);
    await assert.rejects(gcpPubSubPull({ instanceSubscription: { topic: 'projects/p/topics/secrets', retentionMs: 60_000 }, onInvalidate: () => {} }), /at least 10 minutes/);
    await assert.rejects(gcpPubSubPull({ subscription: 'a/b', onInvalidate: () => {} }), { code: ErrorCodes.INVALID_DECLARATION });
    await assert.rejects(gcpPubSubPull({ subscription: 'projects/p/subscriptions/sub' }), { code: ErrorCodes.INVALID_DECLARATION });
  });
});
