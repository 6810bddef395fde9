import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { toNodeListener } from '../../src/adapters/node-http.ts';
import { createAdminHandler } from '../../src/admin/index.ts';
import { createKeyshift, defineSecrets, ErrorCodes, KeyshiftError, t } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';
import type { Source } from '../../src/types.ts';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-test-token-0123456789abcdef';
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing; CI must install Debian's chromium package`);
const skip = missing ? `${CHROMIUM} is not installed (apt-get install -y chromium); skipped outside CI` : false;

/** A memory store without change notifications (so only the dashboard's button brings a new version in), where chosen names fail. */
function quietSource(values: Record<string, string>) {
  const memory = memorySource({ values });
  const failing = new Set<string>();
  const source: Source = {
    kind: 'memory',
    async get(name, options) {
      if (failing.has(name)) throw new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `memory: ${name} is unavailable`);
      return memory.get(name, options);
    },
  };
  return { source, memory, failing };
}

describe('Dashboard in headless Chromium', { skip }, () => {
  it('logs in, shows every entry, and brings a new version in with the row refresh button', async () => {
    const { chromium } = await import('playwright-core');
    const split2 = quietSource({
      CHANGENOW_API_KEY: 'fake-changenow-key-1',
      PGP_SPLIT2_URL: 'https://pgp-split2.example.test/estimate',
      PGP_SPLIT2_ESTIMATE_QUEUE: 'split2-estimate-queue',
      TP_FLAT_FEE: '1.5',
      PAYMENT_MIN_TOLERANCE: '0.5',
      SUCCESS_URL_SIGNING_KEY: 'fake-signing-key-0123456789abcdef',
    });
    const hostpay = quietSource({ PGP_HOSTPAY1_URL: 'https://pgp-hostpay1.example.test/', CHANGENOW_API_KEY: 'fake-changenow-key-1' });
    const a = createKeyshift(
      defineSecrets({
        CHANGENOW_API_KEY: { type: t.string(), category: 'api-key' },
        PGP_SPLIT2_URL: { type: t.url(), category: 'service-url' },
        PGP_SPLIT2_ESTIMATE_QUEUE: { type: t.string(), category: 'queue-name' },
        TP_FLAT_FEE: { type: t.decimal({ min: 0, max: 100 }), category: 'app-config' },
        PAYMENT_MIN_TOLERANCE: { type: t.float(), category: 'app-config' },
        SUCCESS_URL_SIGNING_KEY: { type: t.string(), category: 'signing-key', static: true },
      }),
      { source: split2.source, name: 'PGP_SPLIT2_v1', logger: false },
    );
    const b = createKeyshift(
      defineSecrets({
        PGP_HOSTPAY1_URL: { type: t.url(), category: 'service-url' },
        CHANGENOW_API_KEY: { type: t.string(), category: 'api-key' },
      }),
      { source: hostpay.source, name: 'PGP_HOSTPAY2_v1', logger: false },
    );
    await Promise.all([a.ready(), b.ready()]);
    // some life on the page: a stale entry and a rejected version
    split2.failing.add('PGP_SPLIT2_ESTIMATE_QUEUE');
    await a.refresh(['PGP_SPLIT2_ESTIMATE_QUEUE']);
    split2.memory.set('PAYMENT_MIN_TOLERANCE', 'NaN');
    await a.refresh(['PAYMENT_MIN_TOLERANCE']);

    const handler = await createAdminHandler({ managers: [a, b], token: TOKEN, auditLog: () => {}, alerts: { logger: false } });
    const server = createServer(toNodeListener(handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const problems: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`${url}/admin/dashboard`);

      // a wrong token is refused on the login form
      await page.fill('#token', 'not-the-admin-token-at-all');
      await page.click('#login-form button[type=submit]');
      await page.waitForFunction(() => document.querySelector('#login-error')?.textContent?.includes('refused'));
      assert.equal(await page.isVisible('#app'), false);

      await page.fill('#token', TOKEN);
      await page.click('#login-form button[type=submit]');
      const row = (manager: string, entry: string) => `section[data-manager="${manager}"] tr[data-entry="${entry}"]`;
      const key = row('PGP_SPLIT2_v1', 'CHANGENOW_API_KEY');
      await page.waitForSelector(`${key} td.version`);
      for (const entry of ['CHANGENOW_API_KEY', 'PGP_SPLIT2_URL', 'PGP_SPLIT2_ESTIMATE_QUEUE', 'TP_FLAT_FEE', 'PAYMENT_MIN_TOLERANCE', 'SUCCESS_URL_SIGNING_KEY']) {
        assert.equal(await page.isVisible(row('PGP_SPLIT2_v1', entry)), true, entry);
      }
      assert.equal(await page.isVisible(row('PGP_HOSTPAY2_v1', 'PGP_HOSTPAY1_URL')), true);
      // stale at the first failure, failing from the 3rd (its background retries keep failing)
      assert.match((await page.textContent(`${row('PGP_SPLIT2_v1', 'PGP_SPLIT2_ESTIMATE_QUEUE')} .pill`)) ?? '', /^(stale|failing)$/);
      assert.equal(await page.textContent(`${row('PGP_SPLIT2_v1', 'PAYMENT_MIN_TOLERANCE')} .pill`), 'rejected');
      assert.equal(await page.textContent(`${key} .pill`), 'ok');
      assert.equal(await page.isDisabled(`${row('PGP_SPLIT2_v1', 'SUCCESS_URL_SIGNING_KEY')} button.refresh`), true);
      assert.match((await page.textContent('#cost-price')) ?? '', /\$0\.03 per 10,000/);
      const before = await page.textContent(`${key} td.version`);
      assert.equal(before, '1');

      // a new version lands in the store; only the button brings it in (the source does not notify)
      const version = split2.memory.set('CHANGENOW_API_KEY', 'fake-changenow-key-2');
      // once the next poll has been rendered, the row must still show the old version
      const renders = Number(await page.getAttribute('body', 'data-renders'));
      await page.waitForFunction((seen) => Number(document.body.getAttribute('data-renders')) > seen, renders);
      assert.equal(await page.textContent(`${key} td.version`), '1');
      await page.click(`${key} button.refresh`);
      await page.waitForFunction(
        ([selector, expected]) => document.querySelector(`${selector} td.version`)?.textContent === expected,
        [key, version] as const,
      );
      assert.equal(await page.textContent(`${row('PGP_HOSTPAY2_v1', 'CHANGENOW_API_KEY')} td.version`), '2', 'the other service was not refreshed');
      await page.waitForSelector('.toast');
      assert.match((await page.textContent('.toast')) ?? '', new RegExp(`CHANGENOW_API_KEY: version 1 → ${version}`));

      const html = await page.content();
      assert.equal(html.includes('fake-changenow-key'), false);
      assert.equal(await page.evaluate(() => window.localStorage.length), 0, 'the token is kept in sessionStorage only');
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/dashboard.png', fullPage: true });
      // the wrong-token attempt logs its 403; nothing else may (a CSP violation or a script error would show here)
      assert.deepEqual(problems.filter((p) => !p.includes('status of 403')), []);
    } finally {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
