import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { createKeyshift, defineSecrets, type Source } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';
import { CHANGENOW_API_KEY, TELEGRAM_BOT_API_TOKEN } from '../../examples/pgp/catalog/secrets.ts';
import { changeNowClient } from '../../examples/pgp/clients/changenow-client.ts';
import { ProviderError } from '../../examples/pgp/clients/provider-error.ts';
import { telegramClient } from '../../examples/pgp/clients/telegram-client.ts';
import { startChangeNowServer } from '../../examples/pgp/stand-ins/changenow-server.ts';

const KEY_1 = 'cn_test_key_number_one';
const KEY_2 = 'cn_test_key_number_two';
const KEY_3 = 'cn_test_key_number_three';

async function changeNowSetup(refreshOnUnauthorized: boolean) {
  let nowMs = 0;
  const standIn = await startChangeNowServer({ apiKey: KEY_1, graceMs: 2_000, now: () => nowMs });
  const source = memorySource({ values: { CHANGENOW_API_KEY: KEY_1 } });
  // No watch: the manager learns of a new key only when asked, so each test decides when.
  const pull: Source = { kind: 'memory', get: (name, options) => source.get(name, options) };
  const ks = createKeyshift(defineSecrets({ CHANGENOW_API_KEY }), { source: pull, logger: false, minRefreshIntervalMs: 0 });
  await ks.ready();
  const client = changeNowClient({ secrets: ks, baseUrl: standIn.url, refreshOnUnauthorized });
  const advance = (ms: number) => {
    nowMs += ms;
  };
  const close = async () => {
    await ks.close();
    await standIn.close();
  };
  return { standIn, source, ks, client, advance, close };
}

describe('ChangeNow client: given the manager, it reads the key on every call', () => {
  it('uses a rotated key on the very next call, without being rebuilt', async () => {
    const { standIn, source, ks, client, close } = await changeNowSetup(false);
    assert.deepEqual(await client.estimate({ from: 'usdt', to: 'eth', amount: '100' }), { fromAmount: '100', toAmount: '0.031' });
    standIn.rotateKey(KEY_2);
    source.set('CHANGENOW_API_KEY', KEY_2);
    await ks.refresh('CHANGENOW_API_KEY');
    assert.deepEqual(await client.exchangeStatus('ex-1'), { id: 'ex-1', status: 'finished' });
    assert.deepEqual(standIn.stats, { current: 2, previous: 0, refused: 0 });
    await close();
  });

  it('keeps working on the previous key inside the grace period, and gets 401 after it', async () => {
    const { standIn, client, advance, close } = await changeNowSetup(false);
    standIn.rotateKey(KEY_2); // the provider moved on; the store has not told us yet
    advance(1_999);
    await client.exchangeStatus('ex-2');
    assert.equal(standIn.stats.previous, 1);
    advance(1);
    await assert.rejects(client.exchangeStatus('ex-3'), (error: ProviderError) => {
      assert.ok(error instanceof ProviderError);
      assert.equal(error.status, 401);
      assert.ok(!error.message.includes(KEY_1), 'the key leaked into the error');
      return true;
    });
    assert.equal(standIn.stats.refused, 1);
    await close();
  });

  it('on a 401, refreshes the key once and retries (the provider rotated before the store told us)', async () => {
    const { standIn, source, client, advance, close } = await changeNowSetup(true);
    standIn.rotateKey(KEY_3);
    source.set('CHANGENOW_API_KEY', KEY_3);
    advance(5_000); // past the grace period: the cached key is refused
    assert.deepEqual(await client.exchangeStatus('ex-4'), { id: 'ex-4', status: 'finished' });
    assert.deepEqual(standIn.stats, { current: 1, previous: 0, refused: 1 });
    await close();
  });

  it('refuses calls with no key, an unknown key, or another method', async () => {
    const standIn = await startChangeNowServer({ apiKey: KEY_1 });
    const get = (headers: Record<string, string>) => fetch(`${standIn.url}/exchange/by-id?id=x`, { headers });
    assert.equal((await get({})).status, 401);
    assert.equal((await get({ 'x-changenow-api-key': 'cn_wrong' })).status, 401);
    assert.equal((await fetch(`${standIn.url}/exchange/by-id`, { method: 'POST' })).status, 405);
    assert.equal(standIn.stats.refused, 2);
    await standIn.close();
  });
});

describe('Telegram client: given the manager, it reads the token on every call', () => {
  it('sends with the current token, follows a rotation, and never puts the token in an error', async () => {
    const TOKEN_1 = '1000000001:TESTTOKENoneoneoneoneone';
    const TOKEN_2 = '1000000001:TESTTOKENtwotwotwotwotwo';
    let accepted = TOKEN_1;
    const seen: string[] = [];
    const server = createServer((req, res) => {
      const [, bot, method] = (req.url ?? '').split('/');
      seen.push(`${method}`);
      const ok = bot === `bot${accepted}`;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? { ok: true, result: { message_id: seen.length, username: 'pgp_test_bot' } } : { ok: false }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const source = memorySource({ values: { TELEGRAM_BOT_API_TOKEN: TOKEN_1 } });
    const ks = createKeyshift(defineSecrets({ TELEGRAM_BOT_API_TOKEN }), { source, logger: false, minRefreshIntervalMs: 0 });
    await ks.ready();
    const client = telegramClient({ secrets: ks, baseUrl });
    assert.equal(await client.sendMessage(42, 'payment received'), 1);
    accepted = TOKEN_2; // BotFather /revoke: the old token stops at once
    await assert.rejects(client.getMe(), (error: Error) => {
      assert.ok(error instanceof ProviderError && error.status === 401);
      assert.ok(!error.message.includes('TESTTOKEN'), 'the token leaked into the error');
      return true;
    });
    source.set('TELEGRAM_BOT_API_TOKEN', TOKEN_2);
    await ks.refresh('TELEGRAM_BOT_API_TOKEN');
    assert.equal(await client.getMe(), 'pgp_test_bot');
    assert.deepEqual(seen, ['sendMessage', 'getMe', 'getMe']);
    await ks.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
