import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Inventory } from '../../src/cli/_inventory.ts';
import { runBin, runInProcess } from '../cli/_run.ts';
import { ALL_REFERENCE_SECRETS, SERVICE_TABLE } from './_expected.ts';

const CATALOG = fileURLToPath(new URL('../../examples/pgp/catalog', import.meta.url));
const BAD = fileURLToPath(new URL('./fixtures/inventory-bad', import.meta.url));
const MISMATCH = fileURLToPath(new URL('./fixtures/inventory-mismatch', import.meta.url));

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `keyshift inventory ...args`, in-process through the CLI's own dispatcher. */
function inventory(args: string[]) {
  return runInProcess(['inventory', ...args], { env: {}, cwd: ROOT });
}

describe('keyshift inventory: the PGP catalog', () => {
  it('lists every secret the reference names exactly once, and passes (exit 0)', async () => {
    const { code, stdout, stderr } = await inventory([CATALOG]);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    const names = stdout
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s+/)[0])
      .filter((name): name is string => Boolean(name && /^[A-Z][A-Z0-9_]+$/.test(name)));
    assert.equal(new Set(names).size, names.length, 'a secret is listed twice');
    assert.deepEqual([...names].sort(), [...ALL_REFERENCE_SECRETS].sort());
    assert.match(stdout, /73 secrets, 17 services, no policy violations/);
  });

  it('--json gives every service with its static/dynamic split as the platform table says', async () => {
    const { code, stdout } = await inventory([CATALOG, '--json']);
    assert.equal(code, 0);
    const inv = JSON.parse(stdout) as Inventory;
    assert.deepEqual(inv.services.map((s) => s.name).sort(), Object.keys(SERVICE_TABLE).sort());
    assert.deepEqual(inv.problems, []);
    for (const [service, expected] of Object.entries(SERVICE_TABLE)) {
      const uses = inv.rows.flatMap((row) => row.uses.filter((u) => u.service === service).map((u) => ({ name: row.name, kind: u.kind })));
      const of = (kind: string) => uses.filter((u) => u.kind === kind).map((u) => u.name).sort();
      assert.deepEqual(of('dynamic'), [...expected.dynamic].sort(), `${service}: dynamic entries`);
      assert.deepEqual(of('static'), [...expected.static].sort(), `${service}: static entries`);
    }
    const row = (name: string) => inv.rows.find((r) => r.name === name);
    assert.equal(row('CHANGENOW_API_KEY')?.uses[0]?.ttlMs, 5 * 60_000);
    assert.equal(row('PGP_SPLIT2_URL')?.uses[0]?.ttlMs, 60_000);
    assert.equal(row('HOST_WALLET_PRIVATE_KEY')?.category, 'private-key');
    assert.equal(row('GCP_REGION')?.inCatalog, true);
    assert.deepEqual(row('GCP_REGION')?.uses, []);
  });

  it('--markdown renders a table per secret and per service', async () => {
    const { code, stdout } = await inventory([CATALOG, '--markdown']);
    assert.equal(code, 0);
    assert.match(stdout, /^\| secret \| category \| type \| ttl \| verdict \| services \|$/m);
    assert.match(stdout, /^\| `TP_FLAT_FEE` \| app-config \| decimal \| 1m \| ok \| dynamic: PGP_ACCUMULATOR_v1, PGP_SPLIT1_v1 \|$/m);
    assert.match(stdout, /^\| `PGP_WEB_v1` \| front end, no backend \| 0 \| `pgp-web.ts` \|$/m);
  });
});

describe('keyshift inventory: declarations that break the policy', () => {
  it('exits 1 and names service, secret and rule for a dynamic private key refused at import', async () => {
    const { code, stdout, stderr } = await inventory([BAD]);
    assert.equal(code, 1);
    assert.match(stderr, /PGP_HOT_WALLET_v1: HOST_WALLET_PRIVATE_KEY breaks private-key-static: .*\[hot-wallet\.ts\]/);
    assert.match(stdout, /^HOST_WALLET_PRIVATE_KEY .*FAIL private-key-static \(PGP_HOT_WALLET_v1\).*static: PGP_GOOD_v1; unknown: PGP_HOT_WALLET_v1$/m);
  });

  it('checks the default policy even when a declaration switched it off', async () => {
    const { stdout, stderr } = await inventory([BAD, '--json']);
    assert.match(stderr, /PGP_LOOSE_v1: TOKEN_SIGNING_KEY breaks signing-key-static: it may not be dynamic/);
    const inv = JSON.parse(stdout) as Inventory;
    assert.deepEqual(inv.problems.map((p) => `${p.service}/${p.secret}/${p.rule}`).sort(), [
      'PGP_HOT_WALLET_v1/HOST_WALLET_PRIVATE_KEY/private-key-static',
      'PGP_LOOSE_v1/TOKEN_SIGNING_KEY/signing-key-static',
    ]);
    assert.deepEqual(inv.services.map((s) => s.name), ['PGP_GOOD_v1', 'PGP_LOOSE_v1']);
  });

  it('flags one secret declared with two types, and `secrets` that are not a declaration', async () => {
    const { code, stdout, stderr } = await inventory([MISMATCH]);
    assert.equal(code, 1);
    assert.match(stderr, /TP_FLAT_FEE breaks consistent-declaration: .*PGP_FEES_A_v1: decimal app-config; PGP_FEES_B_v1: float app-config/);
    assert.match(stderr, /PGP_BAD_EXPORT_v1: breaks convention: `secrets` must be the result of defineSecrets\(\) \[bad-export\.ts\]/);
    assert.match(stdout, /^SOME_URL .* dynamic: no-service$/m, 'a module without `service` is named after its file');
  });

  it('refuses bad usage with exit 2', async () => {
    assert.equal((await inventory([])).code, 2);
    assert.equal((await inventory([CATALOG, '--yaml'])).code, 2);
    assert.equal((await inventory([CATALOG, '--json', '--markdown'])).code, 2);
    assert.equal((await inventory([`${CATALOG}/missing`])).code, 2);
  });

  it('works as a real process: bin/keyshift.mjs inventory on a relative path exits 1 on the bad fixture', async () => {
    const run = await runBin(['inventory', 'test/pgp/fixtures/inventory-bad'], { env: process.env, cwd: ROOT });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /PGP_HOT_WALLET_v1: HOST_WALLET_PRIVATE_KEY breaks private-key-static/);
  });
});
