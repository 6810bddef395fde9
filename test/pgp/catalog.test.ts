import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveEntry } from '../../src/core/define-secrets.ts';
import { findViolation } from '../../src/core/policy.ts';
import { createKeyshift, type Declaration, DEFAULT_POLICY, Secret } from '../../src/index.ts';
import { memorySource } from '../../src/testing/index.ts';
import { catalog } from '../../examples/pgp/catalog/all-secrets.ts';
import { dummyValues } from '../../examples/pgp/demo/dummy-values.ts';
import { ALL_REFERENCE_SECRETS, REFERENCE_SECRETS, SERVICE_TABLE } from './_expected.ts';

const DIR = fileURLToPath(new URL('../../examples/pgp/catalog/', import.meta.url));

async function serviceModules(): Promise<{ file: string; service: { name: string; role: string }; secrets: Declaration }[]> {
  const out = [];
  for (const file of (await readdir(DIR)).filter((f) => f.startsWith('pgp-')).sort()) {
    const mod = (await import(new URL(file, `file://${DIR}`).href)) as { service: { name: string; role: string }; secrets: Declaration };
    out.push({ file, ...mod });
  }
  return out;
}

describe('PGP catalog', () => {
  it('has one declaration module per service of the platform table, the security-critical four and PGP_WEB_v1 included', async () => {
    const mods = await serviceModules();
    assert.deepEqual(mods.map((m) => m.service.name).sort(), Object.keys(SERVICE_TABLE).sort());
    for (const name of ['PGP_ORCHESTRATOR_v1', 'PGP_HOSTPAY1_v1', 'PGP_HOSTPAY3_v1', 'PGP_SERVER_v1', 'PGP_WEB_v1']) {
      assert.ok(mods.some((m) => m.service.name === name), name);
    }
    assert.deepEqual(Object.keys(mods.find((m) => m.service.name === 'PGP_WEB_v1')?.secrets ?? { x: 1 }), []);
  });

  it('passes the default policy in every service and in the catalog-wide list', async () => {
    for (const { service, secrets } of [...(await serviceModules()), { service: { name: 'catalog' }, secrets: catalog }]) {
      for (const [name, entry] of Object.entries(secrets)) {
        assert.equal(findViolation(name, entry, DEFAULT_POLICY), undefined, `${service.name}: ${name}`);
      }
    }
  });

  it('declares every secret the reference names, in the reference category', () => {
    assert.deepEqual(Object.keys(catalog).sort(), [...ALL_REFERENCE_SECRETS].sort());
    const category = (name: string) => resolveEntry(name, catalog[name as keyof typeof catalog]).category;
    for (const [group, names] of Object.entries(REFERENCE_SECRETS)) {
      if (group === 'service-table') continue;
      for (const name of names) {
        const expected = group === 'private-or-signing-key' ? (name.endsWith('_PRIVATE_KEY') ? 'private-key' : 'signing-key') : group;
        assert.equal(category(name), expected, name);
      }
    }
    for (const name of ['HOST_WALLET_PRIVATE_KEY', 'SUCCESS_URL_SIGNING_KEY', 'TPS_HOSTPAY_SIGNING_KEY', 'DATABASE_PASSWORD_SECRET'] as const) {
      assert.equal(resolveEntry(name, catalog[name]).kind, 'static', name);
    }
  });

  it('shares one declaration per name: every service uses the catalog codec for a secret it shares', async () => {
    for (const { service, secrets } of await serviceModules()) {
      for (const [name, entry] of Object.entries(secrets)) {
        const shared = catalog[name as keyof typeof catalog];
        assert.ok(shared, `${service.name}: ${name} is not in the catalog`);
        assert.equal(entry.type, shared.type, `${service.name}: ${name} has its own codec`);
        assert.equal(entry.category, shared.category, `${service.name}: ${name}`);
      }
    }
  });

  it('loads every service into a manager from the dummy values, statics as plain properties', async () => {
    const source = memorySource({ values: dummyValues() });
    for (const { service, secrets } of await serviceModules()) {
      const ks = createKeyshift(secrets, { source, name: service.name, logger: false });
      await ks.ready();
      const status = ks.status();
      assert.equal(status.entries.length, Object.keys(secrets).length);
      for (const entry of ks.entries) {
        const value = entry.kind === 'static' ? (ks.static as Record<string, unknown>)[entry.name] : (ks.get as (n: string) => unknown)(entry.name);
        assert.notEqual(value, undefined, `${service.name}: ${entry.name}`);
        assert.equal(value instanceof Secret, entry.secret, `${service.name}: ${entry.name} wrapping`);
      }
      await ks.close();
    }
  });
});
