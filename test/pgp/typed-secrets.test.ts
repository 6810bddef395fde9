import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Big from 'big.js';
import { createKeyshift, ErrorCodes, type KeyshiftEvents, Secret } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';
import { catalog } from '../../examples/pgp/catalog/all-secrets.ts';
import { dummyValues } from '../../examples/pgp/demo/dummy-values.ts';

type Name = keyof typeof catalog;

/** Per typed secret: values its type must refuse (the last-known-good value stays). */
const BAD_VALUES: Partial<Record<Name, string[]>> = {
  TP_FLAT_FEE: ['3.5%', '101', '1e2', '0.1.2', '-1'],
  PAYMENT_MIN_TOLERANCE: ['NaN', 'Infinity', '1.5', 'half'],
  PAYMENT_FALLBACK_TOLERANCE: ['1e309', '-0.1'],
  MICRO_BATCH_THRESHOLD_USD: ['0.1.2', '-5', '20 USD'],
  MINIMUM_PAYOUT_USD: ['1e3', 'NaN'],
  BROADCAST_AUTO_INTERVAL: ['-5h', 'soon', '24 hours'],
  BROADCAST_MANUAL_INTERVAL: ['0.001', 'P1D'],
  SUBSCRIPTION_CHECK_INTERVAL: ['0.5', '-60'],
  ALERTING_ENABLED: ['yes', 'TRUE ', 'enabled'],
  BATCH_PAYOUT_WINDOW_HOURS: ['12abc', '0', '1.5', '9007199254740993'],
  SLACK_ALERT_WEBHOOK: ['http://hooks.slack.example/x', 'javascript:alert(1)'],
  PGP_SPLIT2_URL: ['javascript:alert(1)', 'http://', 'https://user:pw@split2.example/', 'split2.example'],
  BASE_URL: ['ftp://pgp.example/'],
  ETHEREUM_RPC_URL_API: ['not a url'],
  PGP_SPLIT2_ESTIMATE_QUEUE: ['queue with spaces', 'queue/../other'],
  HOST_WALLET_USDT_ADDRESS: ['0x123', 'not-an-address'],
  TELEGRAM_BOT_API_TOKEN: ['not-a-token'],
  CHANGENOW_API_KEY: ['k3y9z', 'cn_demo_0123456789\r\nX-Injected: 1'],
  CORS_ORIGIN: ['https://www.pgp.example/path', '*'],
  FROM_EMAIL: ['not-an-email'],
  CLOUD_TASKS_LOCATION: ['US Central'],
  // A keyset only: a plain string (what the services used before keyring-migrate), or a keyset whose key is under 32 bytes.
  JWT_SECRET_KEY: [
    'fake-plain-jwt-secret-key-0123456789-abcdef',
    `{"format":"keyshift.hmac-keyset.v1","keys":[{"kid":"k9","state":"primary","material":"${Buffer.alloc(16, 7).toString('base64')}","addedAt":"2026-01-01T00:00:00.000Z"}]}`,
  ],
  SIGNUP_SECRET_KEY: ['too-short-for-hs256'],
};

function setup() {
  const values = dummyValues();
  const source = memorySource({ values });
  const ks = createKeyshift(catalog, { source, logger: false, minRefreshIntervalMs: 0 });
  const rejected: KeyshiftEvents['rejected'][] = [];
  ks.on('rejected', (event) => rejected.push(event));
  return { values, source, ks, rejected, read: (name: Name) => (ks.get as (n: string) => unknown)(name) };
}

describe('PGP catalog: typed values', () => {
  it('decodes each type: decimal fee, float tolerances, hours and seconds, bool, int, URL, optional URL', async () => {
    const { ks, source } = setup();
    await ks.ready();
    assert.ok(ks.get('TP_FLAT_FEE') instanceof Big);
    assert.equal(ks.get('TP_FLAT_FEE').toString(), '3.5');
    assert.equal(ks.get('PAYMENT_MIN_TOLERANCE'), 0.5);
    assert.equal(ks.get('MICRO_BATCH_THRESHOLD_USD').toFixed(2), '20.00');
    assert.equal(ks.get('BROADCAST_AUTO_INTERVAL'), 24 * 3_600_000);
    assert.equal(ks.get('SUBSCRIPTION_CHECK_INTERVAL'), 60_000);
    assert.equal(ks.get('ALERTING_ENABLED'), true);
    assert.equal(ks.get('BATCH_PAYOUT_WINDOW_HOURS'), 48);
    assert.equal(ks.get('PGP_SPLIT2_URL'), 'https://pgp-split2-demo.a.run.app/');
    assert.ok(ks.get('SLACK_ALERT_WEBHOOK') instanceof Secret);
    assert.ok(ks.static.HOST_WALLET_PRIVATE_KEY instanceof Secret);
    source.delete('SLACK_ALERT_WEBHOOK');
    await ks.refresh('SLACK_ALERT_WEBHOOK');
    assert.equal(ks.get('SLACK_ALERT_WEBHOOK'), null, 'an absent optional webhook reads as null');
    await ks.close();
  });

  it('rejects a bad new version of each typed secret: the old value stays and the event names entry and reason, never the value', async () => {
    const { ks, source, rejected, read } = setup();
    await ks.ready();
    for (const [name, bads] of Object.entries(BAD_VALUES) as [Name, string[]][]) {
      const before = read(name);
      for (const bad of bads) {
        source.set(name, bad);
        const [result] = await ks.refresh(name as Parameters<typeof ks.refresh>[0] & string);
        assert.equal(result?.outcome, 'rejected', `${name} accepted ${JSON.stringify(bad)}`);
        assert.equal(result?.error?.code, ErrorCodes.VALUE_REJECTED);
        assert.equal(read(name), before, `${name} lost its last-known-good value`);
        const event = rejected.at(-1);
        assert.equal(event?.name, name);
        // Short values ('0', '-1') occur in any text; the distinctive ones must not appear.
        if (bad.length >= 5) {
          assert.ok(!event?.reason.includes(bad) && !result?.error?.message.includes(bad), `${name}: the value leaked into the reason`);
        }
      }
    }
    await ks.close();
  });

  it('refuses a malformed static private key at ready(), naming the entry and not the value', async () => {
    const values = { ...dummyValues(), HOST_WALLET_PRIVATE_KEY: 'not-a-hex-wallet-key' };
    const ks = createKeyshift(catalog, { source: memorySource({ values }), logger: false });
    await assert.rejects(ks.ready(), (error: Error & { code?: string }) => {
      assert.equal(error.code, ErrorCodes.VALUE_REJECTED);
      assert.match(error.message, /HOST_WALLET_PRIVATE_KEY/);
      assert.ok(!error.message.includes('not-a-hex-wallet-key'));
      return true;
    });
    await ks.close();
  });
});
