/** The Pub/Sub push handler, called in-process with web-standard Requests. */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../src/errors.ts';
import { gcpPubSubPushHandler, type SecretEvent } from '../../src/sources/gcp-pubsub-push.ts';

const TOKEN = 'push-token-0123456789abcdef';
const URL_BASE = 'http://127.0.0.1/pubsub/push';
let nextId = 1;

function envelope(attributes: Record<string, string>, messageId = String(nextId++)): Record<string, unknown> {
  return {
    message: { attributes, data: Buffer.from('{}').toString('base64'), messageId, publishTime: new Date().toISOString() },
    subscription: 'projects/p/subscriptions/keyshift',
  };
}

const versionAdd = (secret = 'API_KEY') => ({
  eventType: 'SECRET_VERSION_ADD',
  secretId: `projects/p/secrets/${secret}`,
  versionId: `projects/p/secrets/${secret}/versions/3`,
  dataFormat: 'JSON_API_V1',
  timestamp: new Date().toISOString(),
});

function post(body: unknown, init: { auth?: string; query?: string; type?: string } = {}): Request {
  const headers: Record<string, string> = { 'content-type': init.type ?? 'application/json' };
  if (init.auth !== undefined) headers.authorization = init.auth;
  const url = init.query === undefined ? URL_BASE : `${URL_BASE}?token=${encodeURIComponent(init.query)}`;
  return new Request(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

function setup(entriesFor?: (resource: string) => readonly string[]) {
  const calls: { names: readonly string[]; event: SecretEvent }[] = [];
  const handler = gcpPubSubPushHandler({
    token: TOKEN,
    onInvalidate: (names, event) => {
      calls.push({ names, event });
    },
    ...(entriesFor ? { entriesFor } : {}),
  });
  return { calls, handler };
}

describe('gcpPubSubPushHandler', () => {
  it('accepts a valid envelope with a Bearer token: 204 and the named entry is invalidated', async () => {
    const { calls, handler } = setup();
    const res = await handler(post(envelope(versionAdd()), { auth: `Bearer ${TOKEN}` }));
    assert.equal(res.status, 204);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.names, ['API_KEY']);
    assert.equal(calls[0]!.event.eventType, 'SECRET_VERSION_ADD');
    assert.equal(calls[0]!.event.versionId, 'projects/p/secrets/API_KEY/versions/3');
  });

  it('accepts the shared-secret ?token= form, and snake_case message_id', async () => {
    const { calls, handler } = setup();
    const body = envelope(versionAdd());
    const message = body.message as Record<string, unknown>;
    message.message_id = message.messageId;
    delete message.messageId;
    assert.equal((await handler(post(body, { query: TOKEN }))).status, 204);
    assert.equal(calls.length, 1);
  });

  it('refuses missing credentials with 401 and wrong ones with 403, changing nothing', async () => {
    const { calls, handler } = setup();
    assert.equal((await handler(post(envelope(versionAdd())))).status, 401);
    assert.equal((await handler(post(envelope(versionAdd()), { auth: 'Bearer wrong-token-0123456789' }))).status, 403);
    assert.equal((await handler(post(envelope(versionAdd()), { query: 'x' }))).status, 403);
    assert.equal((await handler(post(envelope(versionAdd()), { auth: `Basic ${TOKEN}` }))).status, 401);
    assert.equal(calls.length, 0);
  });

  it('answers 400 to malformed envelopes, changing nothing', async () => {
    const { calls, handler } = setup();
    const auth = `Bearer ${TOKEN}`;
    const bad: unknown[] = [
      '{not json',
      'null',
      { subscription: 's' },
      { message: { attributes: versionAdd() } },
      { message: { messageId: '1' } },
      envelope({ ...versionAdd(), eventType: 'not an event type' }),
      envelope({ ...versionAdd(), secretId: 'projects/p/secrets/bad name' }),
      envelope({ ...versionAdd(), versionId: 'nope' }),
      envelope({ ...versionAdd(), dataFormat: 'XML' }),
      { message: { attributes: versionAdd(), messageId: '9', data: 42 } },
    ];
    for (const body of bad) {
      const res = await handler(post(body, { auth }));
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(typeof ((await res.json()) as { error: unknown }).error, 'string');
    }
    assert.equal(calls.length, 0);
  });

  it('drops a redelivered message id (204, one invalidation)', async () => {
    const { calls, handler } = setup();
    const body = envelope(versionAdd(), 'dup-1');
    for (let i = 0; i < 3; i++) assert.equal((await handler(post(body, { auth: `Bearer ${TOKEN}` }))).status, 204);
    assert.equal(calls.length, 1);
  });

  it('acknowledges an unknown secret and harmless event types without invalidating anything', async () => {
    const { calls, handler } = setup((resource) => (resource.endsWith('/API_KEY') ? ['API_KEY'] : []));
    const auth = `Bearer ${TOKEN}`;
    assert.equal((await handler(post(envelope(versionAdd('SOMEONE_ELSES')), { auth }))).status, 204);
    assert.equal((await handler(post(envelope({ eventType: 'TOPIC_CONFIGURED' }), { auth }))).status, 204);
    const rotate = { eventType: 'SECRET_ROTATE', secretId: 'projects/p/secrets/API_KEY' };
    assert.equal((await handler(post(envelope(rotate), { auth }))).status, 204);
    assert.equal(calls.length, 0);
  });

  it('acknowledges (204) an event type it does not know and reports it, so Pub/Sub does not redeliver it for 7 days', async () => {
    const ignored: string[] = [];
    const handler = gcpPubSubPushHandler({ token: TOKEN, onInvalidate: () => assert.fail('invalidated'), onIgnored: (e) => void ignored.push(e.eventType) });
    const res = await handler(post(envelope({ ...versionAdd(), eventType: 'SECRET_EXPLODED' }), { auth: `Bearer ${TOKEN}` }));
    assert.equal(res.status, 204);
    assert.deepEqual(ignored, ['SECRET_EXPLODED']);
  });

  it('refuses other methods (405), other content types (415) and oversized bodies (413)', async () => {
    const { handler } = setup();
    assert.equal((await handler(new Request(URL_BASE, { method: 'GET' }))).status, 405);
    const auth = `Bearer ${TOKEN}`;
    assert.equal((await handler(post(envelope(versionAdd()), { auth, type: 'text/plain' }))).status, 415);
    assert.equal((await handler(post(`{"pad":"${'x'.repeat(70_000)}"}`, { auth }))).status, 413);
  });

  it('answers 500 when the invalidation throws, so that Pub/Sub redelivers, and accepts the redelivery', async () => {
    let fail = true;
    let done = 0;
    const handler = gcpPubSubPushHandler({
      token: TOKEN,
      onInvalidate: () => {
        if (fail) throw new Error('listener down');
        done += 1;
      },
    });
    const body = envelope(versionAdd(), 'retry-1');
    assert.equal((await handler(post(body, { auth: `Bearer ${TOKEN}` }))).status, 500);
    fail = false;
    assert.equal((await handler(post(body, { auth: `Bearer ${TOKEN}` }))).status, 204);
    assert.equal(done, 1);
  });

  it('invalidates a source given as `source`, and runs a custom verify()', async () => {
    const invalidated: (readonly string[] | undefined)[] = [];
    const source = {
      invalidate: (names?: readonly string[]) => invalidated.push(names),
      entriesFor: (resource: string) => (resource.endsWith('/API_KEY') ? ['API_KEY', 'API_KEY_ALIAS'] : []),
    };
    const handler = gcpPubSubPushHandler({ source, verify: (r) => r.headers.get('x-test-verified') === 'yes' });
    const ok = post(envelope(versionAdd()));
    ok.headers.set('x-test-verified', 'yes');
    assert.equal((await handler(ok)).status, 204);
    assert.equal((await handler(post(envelope(versionAdd())))).status, 403);
    assert.deepEqual(invalidated, [['API_KEY', 'API_KEY_ALIAS']]);
  });

  it('refuses to build an unauthenticated handler, a short token, or one without a target', () => {
    const onInvalidate = () => {};
    assert.throws(() => gcpPubSubPushHandler({ onInvalidate }), { code: ErrorCodes.INVALID_DECLARATION });
    assert.throws(() => gcpPubSubPushHandler({ onInvalidate, token: 'short' }), { code: ErrorCodes.INVALID_DECLARATION });
    assert.throws(() => gcpPubSubPushHandler({ token: TOKEN }), { code: ErrorCodes.INVALID_DECLARATION });
  });
});
