import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { AlertWebhook, type DeliveryOutcome } from '../../src/admin/index.ts';
import { ErrorCodes, Secret } from '../../src/index.ts';
import { adminFixture, captureLogger } from './_fixture.ts';

/** A Slack-style incoming-webhook receiver on loopback that keeps every message. */
async function receiver(answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok')) {
  const messages: Array<{ text: string; contentType: string | undefined }> = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      messages.push({ text: (JSON.parse(body) as { text: string }).text, contentType: req.headers['content-type'] });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T000/B000/XXXX`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url, messages, close };
}

/** A port that was just free: nothing listens there. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/hook`;
}

describe('Alert webhook', () => {
  it('posts one {text} message per incident to a real receiver, deduplicated until it resolves', async () => {
    const hook = await receiver();
    const f = await adminFixture({ handler: { alerts: { webhook: new Secret(hook.url), fetchLatencyMs: 60_000 } } });
    try {
      f.source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
      for (let i = 0; i < 6; i++) {
        await f.clock.tick(1_000);
        await f.ks.refresh(['CHANGENOW_API_KEY']);
      }
      await f.handler.alerts.idle();
      assert.equal(hook.messages.length, 1);
      assert.match(hook.messages[0]?.text ?? '', /^\[keyshift\] FIRING critical failing: PGP_SPLIT2_v1: CHANGENOW_API_KEY failed 3 fetches/);
      assert.equal(hook.messages[0]?.contentType, 'application/json');
      f.source.fail(undefined);
      await f.clock.tick(1_000);
      await f.ks.refresh(['CHANGENOW_API_KEY']);
      await f.handler.alerts.idle();
      assert.equal(hook.messages.length, 1, 'resolution is not posted by default');
      f.source.fail({ code: ErrorCodes.SOURCE_UNAVAILABLE });
      for (let i = 0; i < 3; i++) {
        await f.clock.tick(1_000);
        await f.ks.refresh(['CHANGENOW_API_KEY']);
      }
      await f.handler.alerts.idle();
      assert.equal(hook.messages.length, 2, 'a new incident is a new message');
      for (const { text } of hook.messages) assert.equal(text.includes('fake-changenow-key'), false);
      const metrics = await (await f.authed('/metrics')).text();
      assert.match(metrics, /keyshift_alert_webhook_deliveries_total\{outcome="sent"\} 2/);
    } finally {
      await f.close();
      await hook.close();
    }
  });

  it('posts resolutions too when sendResolved is set', async () => {
    const hook = await receiver();
    const f = await adminFixture({ handler: { alerts: { webhook: { url: hook.url, sendResolved: true } } } });
    try {
      f.source.set('BATCH_SIZE', 'twenty');
      await f.ks.refresh(['BATCH_SIZE']);
      f.source.set('BATCH_SIZE', '30');
      await f.clock.tick(1_000);
      await f.ks.refresh(['BATCH_SIZE']);
      await f.handler.alerts.idle();
      assert.deepEqual(
        hook.messages.map((m) => m.text.replace(/:.*/, '')),
        ['[keyshift] FIRING warning rejected', '[keyshift] RESOLVED rejected'],
      );
      assert.equal(hook.messages.some((m) => m.text.includes('twenty')), false);
    } finally {
      await f.close();
      await hook.close();
    }
  });

  it('survives a receiver that is down, answers 500, or never answers: no throw, no unhandled rejection, one log line each', async () => {
    const failing = await receiver((_req, res) => {
      res.statusCode = 500;
      res.end('no');
    });
    const hanging = await receiver(() => {});
    const logs: string[] = [];
    const outcomes: DeliveryOutcome[] = [];
    try {
      for (const url of [await deadUrl(), failing.url, hanging.url]) {
        const hook = new AlertWebhook({ url, timeoutMs: 300 }, captureLogger(logs), (o) => outcomes.push(o));
        hook.send('[keyshift] FIRING test');
        await hook.idle();
        await hook.close();
      }
      assert.deepEqual(outcomes, ['failed', 'failed', 'failed']);
      assert.equal(logs.length, 3);
      assert.match(logs[0] ?? '', /could not be reached/);
      assert.match(logs[1] ?? '', /answered 500/);
      assert.match(logs[2] ?? '', /timed out after 300 ms/);
      for (const line of logs) assert.equal(line.includes('127.0.0.1') || line.includes('/services/'), false, 'the URL is a credential');
      assert.equal(hanging.messages.length, 1);
    } finally {
      await failing.close();
      await hanging.close();
    }
  });

  it('never blocks the admin surface while the webhook is down', async () => {
    const f = await adminFixture({ handler: { alerts: { webhook: await deadUrl() } } });
    try {
      f.source.set('BATCH_SIZE', 'twenty');
      await f.ks.refresh(['BATCH_SIZE']);
      assert.equal((await f.authed('/admin/status')).status, 200);
      await f.handler.alerts.idle();
      assert.equal(f.handler.alerts.firing().length, 1);
      assert.ok(f.logs.some((l) => l.includes('alert webhook: the receiver could not be reached')));
      const metrics = await (await f.authed('/metrics')).text();
      assert.match(metrics, /keyshift_alert_webhook_deliveries_total\{outcome="failed"\} 1/);
    } finally {
      await f.close();
    }
  });

  it('reads a function URL at each delivery and sends nothing while it is null, dropping the oldest when the queue is full', async () => {
    const hook = await receiver();
    let url: string | null = null;
    const outcomes: DeliveryOutcome[] = [];
    const webhook = new AlertWebhook({ url: () => url, queueSize: 1 }, captureLogger([]), (o) => outcomes.push(o));
    try {
      webhook.send('one');
      await webhook.idle();
      url = hook.url;
      webhook.send('two');
      webhook.send('three');
      webhook.send('four');
      await webhook.idle();
      assert.deepEqual(hook.messages.map((m) => m.text), ['two', 'four']);
      assert.deepEqual(outcomes, ['dropped', 'dropped', 'sent', 'sent']);
    } finally {
      await webhook.close();
      await hook.close();
    }
  });
});
