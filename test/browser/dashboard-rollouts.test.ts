import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { toNodeListener } from '../../src/adapters/node-http.ts';
import { createAdminHandler } from '../../src/admin/index.ts';
import { adoptionSlot, formatRolloutMarker } from '../../src/core/adoption.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { createFakeClock, flush, memorySource } from '../../src/testing/index.ts';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-rollout-test-token-0123456789';
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing; CI must install Debian's chromium package`);
const skip = missing ? `${CHROMIUM} is not installed (apt-get install -y chromium); skipped outside CI` : false;

const BAKE = 60_000;
// the memory source numbers versions across names: 1-5 at start, then one per set() in this order
const PLANNED = { PAY_URL: '6', CN_KEY: '7', FX_KEY: '8', TG_KEY: '9' } as const;
type Rolled = keyof typeof PLANNED;

describe('Dashboard in headless Chromium: canary rollouts', { skip }, () => {
  it('shows each entry\'s rollout (fraction, failures, promoted, rolled out) and marks a halted one, live, with no value on the page', async () => {
    const { chromium } = await import('playwright-core');
    const clock = createFakeClock();
    const source = memorySource({
      values: { CN_KEY: 'fake-cn-key-1', FX_KEY: 'fake-fx-key-1', TG_KEY: 'fake-tg-key-1', PAY_URL: 'https://pay-a.example/', PLAIN_KEY: 'fake-plain-key-1' },
    });
    const adoption = { steps: [0.5], bakeMs: BAKE, maxFailures: 2 };
    // an instance inside the 50 % slice of version 2 of every rolled entry (the slot is a hash: look for one)
    let instanceId = '';
    const inSlice = (id: string) => Object.entries(PLANNED).every(([name, version]) => adoptionSlot(id, name, version) < 0.5);
    for (let i = 0; !instanceId; i++) if (inSlice(`pgp-split2-${i}`)) instanceId = `pgp-split2-${i}`;
    const ks = createKeyshift(
      defineSecrets({
        CN_KEY: { type: t.string(), category: 'api-key', adoption },
        FX_KEY: { type: t.string(), category: 'api-key', adoption },
        TG_KEY: { type: t.string(), category: 'api-key', adoption },
        PAY_URL: { type: t.url(), category: 'service-url', adoption },
        PLAIN_KEY: { type: t.string(), category: 'api-key' },
      }),
      { source, clock, name: 'PGP_SPLIT2_v1', instanceId, logger: false, minRefreshIntervalMs: 1 },
    );
    await ks.ready();
    const bump = async (name: Rolled, value: string) => {
      assert.equal(source.set(name, value), PLANNED[name]);
      await clock.tick(10);
      await ks.refresh(name);
      await flush();
    };
    // PAY_URL: rolled out to the whole fleet at the end of its bake
    await bump('PAY_URL', 'https://pay-b.example/');
    await clock.tick(BAKE + 1_000);
    await flush();
    // CN_KEY rolling out, FX_KEY halted by the failures the app reported, TG_KEY promoted by an operator
    await bump('CN_KEY', 'fake-cn-key-2');
    await bump('FX_KEY', 'fake-fx-key-2');
    ks.reportFailure('FX_KEY');
    assert.equal(ks.reportFailure('FX_KEY').halted, true);
    await bump('TG_KEY', 'fake-tg-key-2');
    source.setRolloutMarker('TG_KEY', formatRolloutMarker({ version: PLANNED.TG_KEY, state: 'promoted' }));
    await clock.tick(10);
    await ks.refresh('TG_KEY');
    await flush();
    const rollouts = Object.fromEntries(ks.status().entries.map((e) => [e.name, [e.rollout?.halted, e.rollout?.serving, e.rolledOut]]));
    assert.deepEqual(rollouts, {
      CN_KEY: [false, true, undefined],
      FX_KEY: [true, false, undefined],
      TG_KEY: [undefined, undefined, { version: PLANNED.TG_KEY, promoted: true }],
      PAY_URL: [undefined, undefined, { version: PLANNED.PAY_URL, promoted: false }],
      PLAIN_KEY: [undefined, undefined, undefined],
    });

    const handler = await createAdminHandler({ managers: [ks], token: TOKEN, auditLog: () => {}, alerts: { logger: false } });
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
      await page.fill('#token', TOKEN);
      await page.click('#login-form button[type=submit]');
      const cell = (entry: string) => `section[data-manager="PGP_SPLIT2_v1"] tr[data-entry="${entry}"] td.rollout`;
      await page.waitForSelector(`${cell('CN_KEY')}[data-rollout]`);
      const state = (entry: string) => page.getAttribute(cell(entry), 'data-rollout');
      const text = async (entry: string) => ((await page.textContent(cell(entry))) ?? '').replace(/\s+/g, ' ');
      const haltedRow = (entry: string) => page.evaluate((selector) => document.querySelector(selector)?.closest('tr')?.classList.contains('rollout-halted'), cell(entry));

      assert.equal(await state('CN_KEY'), 'rolling-out');
      assert.match(await text('CN_KEY'), /rolling out v7.*50 % of the fleet · serving · 0 \/ 2 failures · \d+ ms of 1 m/);
      assert.equal(await haltedRow('CN_KEY'), false);
      assert.equal(await state('FX_KEY'), 'halted');
      assert.match(await text('FX_KEY'), /halted v8.*by failures · 2 \/ 2 failures · back on v2/);
      assert.equal(await haltedRow('FX_KEY'), true, 'the halted rollout\'s row is marked');
      assert.equal(await state('TG_KEY'), 'promoted');
      assert.match(await text('TG_KEY'), /promoted.*version 9: served everywhere now \(promote\)/);
      assert.equal(await state('PAY_URL'), 'rolled-out');
      assert.match(await text('PAY_URL'), /rolled out.*version 6: served everywhere after its bake/);
      assert.equal(await state('PLAIN_KEY'), 'none');
      assert.equal(await text('PLAIN_KEY'), '—');
      assert.equal(await page.textContent('#count-halted'), '1');

      // live: the app reports CN_KEY failing; the next poll shows it halted
      ks.reportFailure('CN_KEY');
      ks.reportFailure('CN_KEY');
      await page.waitForFunction((selector) => document.querySelector(selector)?.getAttribute('data-rollout') === 'halted', cell('CN_KEY'));
      assert.match(await text('CN_KEY'), /halted v7.*by failures · 2 \/ 2 failures · back on v1/);
      assert.equal(await haltedRow('CN_KEY'), true);
      await page.waitForFunction(() => document.querySelector('#count-halted')?.textContent === '2');

      const html = await page.content();
      for (const value of ['fake-cn-key', 'fake-fx-key', 'fake-tg-key', 'fake-plain-key']) assert.equal(html.includes(value), false, `${value} on the page`);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/dashboard-rollouts.png', fullPage: true });
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
      await ks.close();
    }
  });
});
