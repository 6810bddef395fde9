// `keyshift rotate NAME` by hand against a local store: a random rotation, resumed and
// rolled back; a hook module whose test step fails (the current version stays, --status
// shows the stage, --abandon drops it); and the refusals: a bad name, an unknown name,
// a rotation record, a missing store, a stale --if-latest, an unknown rotator.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateMasterKey, openLocalStore } from '../../src/local-store/index.ts';
import { type CliRun, runBin, runInProcess } from './_run.ts';

describe('CLI: keyshift rotate', () => {
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  const run = (argv: string[], stdin?: string): Promise<CliRun> => runInProcess(argv, { env, cwd, ...(stdin === undefined ? {} : { stdin }) });
  /** Every version's value of `name`, straight from the store. */
  const values = async (name: string): Promise<string[]> => {
    const store = await openLocalStore({ dir: join(cwd, 'store'), create: false, env });
    try {
      const out: string[] = [];
      for (const { version } of await store.versions(name)) out.push(Buffer.from((await store.access(name, version)).value).toString('utf8'));
      return out;
    } finally {
      await store.close();
    }
  };
  const noValueIn = (result: CliRun, secrets: string[]): void => {
    for (const value of secrets) assert.ok(!result.stdout.includes(value) && !result.stderr.includes(value), 'a value was printed');
  };

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'keyshift-cli-rotate-'));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, KEYSHIFT_MASTER_KEY: generateMasterKey(), KEYSHIFT_STORE_DIR: 'store' };
    assert.equal((await run(['put', 'WEBHOOK_SECRET'], 'fake-webhook-secret-0')).code, 0);
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('rotates a secret by hand with a random value of the given shape, and prints its version, never its value', async () => {
    const result = await run(['rotate', 'WEBHOOK_SECRET', '--rotator', 'random', '--length', '40', '--alphabet', 'hex', '--prefix', 'whsec_']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^WEBHOOK_SECRET: version 2 is current \(was 1\); rotation [0-9a-f]{16} finished\n$/);
    const all = await values('WEBHOOK_SECRET');
    assert.equal(all[0], 'fake-webhook-secret-0');
    assert.match(all[1]!, /^whsec_[0-9a-f]{40}$/);
    noValueIn(result, all);
    const json = await run(['rotate', 'WEBHOOK_SECRET', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { outcome: string; version: number; previousVersion: number; stage: string };
    assert.deepEqual([parsed.outcome, parsed.version, parsed.previousVersion, parsed.stage], ['finished', 3, 2, 'cleanup']);
    const status = await run(['rotate', 'WEBHOOK_SECRET', '--status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /WEBHOOK_SECRET: no rotation under way; latest version 3; last rotated \S+ \(random-secret, version 2 -> 3\)/);
    noValueIn(json, await values('WEBHOOK_SECRET'));
  });

  it('--if-latest refuses a stale version (exit 1, nothing written); --rollback puts the previous value back as a new version', async () => {
    const stale = await run(['rotate', 'WEBHOOK_SECRET', '--if-latest', '1']);
    assert.equal(stale.code, 1);
    assert.match(stale.stdout, /not rotated: the latest version is 3, not the one given to --if-latest/);
    assert.equal((await values('WEBHOOK_SECRET')).length, 3);
    const back = await run(['rotate', 'WEBHOOK_SECRET', '--rollback']);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /WEBHOOK_SECRET: version 4 is current \(was 3\)/);
    const all = await values('WEBHOOK_SECRET');
    assert.equal(all[3], all[1], 'version 4 holds the value of version 2');
    const to1 = await run(['rotate', 'WEBHOOK_SECRET', '--rollback', '--to', '1']);
    assert.equal(to1.code, 0, to1.stderr);
    assert.equal((await values('WEBHOOK_SECRET'))[4], 'fake-webhook-secret-0');
    const after = await run(['rotate', 'WEBHOOK_SECRET']);
    assert.equal(after.code, 2, 'after a rollback, the next rotation names its rotator again');
    assert.match(after.stderr, /usage: NAME was last changed by a rollback: say how its next value is made/);
  });

  it('a hook whose test step fails: exit 1, the current version stays; --status shows the stage; a fixed hook resumes it; --abandon drops one', async () => {
    assert.equal((await run(['put', 'PARTNER_API_KEY'], 'fake-partner-key-0')).code, 0);
    const hook = (ok: boolean) => `export default {
  kind: 'external-hook:partner',
  create: async () => 'fake-partner-key-' + Date.now(),
  async test() { if (!${ok}) throw new Error('the partner refused the key'); },
};\n`;
    await writeFile(join(cwd, 'failing-hook.mjs'), hook(false));
    await writeFile(join(cwd, 'working-hook.mjs'), hook(true));
    const failed = await run(['rotate', 'PARTNER_API_KEY', '--rotator', 'hook', '--hook', 'failing-hook.mjs']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /PARTNER_API_KEY: rotation [0-9a-f]{16} failed at stage test \(KS_ERR_ROTATION_REFUSED: .*\); the current version stays; run keyshift rotate again to resume/);
    assert.ok(!failed.stderr.includes('the partner refused'), 'a hook message may echo a key: never printed');
    assert.deepEqual(await values('PARTNER_API_KEY'), ['fake-partner-key-0']);
    const status = await run(['rotate', 'PARTNER_API_KEY', '--status']);
    assert.match(status.stdout, /external-hook:partner rotation [0-9a-f]{16} at stage test, attempt 1, from version 1; last failure at test: KS_ERR_ROTATION_REFUSED/);
    const unsaid = await run(['rotate', 'PARTNER_API_KEY']);
    assert.equal(unsaid.code, 2, 'without --rotator, a hook rotation is not guessed');
    assert.match(unsaid.stderr, /usage: NAME is rotated by a external-hook:partner rotator: give --rotator \(hook, pg or keyring\) with its options again/);
    const other = await run(['rotate', 'PARTNER_API_KEY', '--rotator', 'random']);
    assert.equal(other.code, 1, 'another kind of rotator does not take over a rotation under way');
    assert.match(other.stderr, /a external-hook:partner rotation of PARTNER_API_KEY is under way \(stage test\); resume it with the same rotator, or drop it with keyshift rotate PARTNER_API_KEY --abandon/);
    const resumed = await run(['rotate', 'PARTNER_API_KEY', '--rotator', 'hook', '--hook', 'working-hook.mjs']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /PARTNER_API_KEY: version 2 is current \(was 1\)/);
    noValueIn(resumed, await values('PARTNER_API_KEY'));

    assert.equal((await run(['rotate', 'PARTNER_API_KEY', '--rotator', 'hook', '--hook', 'failing-hook.mjs'])).code, 1);
    const abandoned = await run(['rotate', 'PARTNER_API_KEY', '--abandon']);
    assert.equal(abandoned.code, 0, abandoned.stderr);
    assert.match(abandoned.stdout, /PARTNER_API_KEY: rotation [0-9a-f]{16} \(stage test\) abandoned; the current version stays/);
    assert.match((await run(['rotate', 'PARTNER_API_KEY', '--status'])).stdout, /no rotation under way; latest version 2/);
    assert.equal((await values('PARTNER_API_KEY')).length, 2);
  });

  it('refuses a bad name (exit 2), an unknown one (exit 3, nothing created), a first rotation without --rotator (exit 2), a rotation record (exit 2), the wallet key (exit 1), a missing store (exit 3)', async () => {
    const bad = await run(['rotate', 'bad name!']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^keyshift: KS_ERR_INVALID_DECLARATION: invalid secret name: character 4 is not one of A-Z a-z 0-9 _ -\n/);
    const unknown = await run(['rotate', 'WEBHOOK_SECRT']);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /^keyshift: KS_ERR_SOURCE_NOT_FOUND: secret NAME not found in the local store /, 'the CLI never repeats an argument in an exit error');
    const list = await run(['list', '--json']);
    assert.ok(!(JSON.parse(list.stdout) as { name: string }[]).some((s) => s.name.startsWith('WEBHOOK_SECRT')), 'a mistyped name made a secret');
    assert.equal((await run(['put', 'NEW_PARTNER_API_KEY'], 'fake-new-partner-key-0')).code, 0);
    const unsaid = await run(['rotate', 'NEW_PARTNER_API_KEY']);
    assert.equal(unsaid.code, 2, 'a first rotation names its rotator: a random value would break a provider key');
    assert.match(unsaid.stderr, /usage: NAME was never rotated by keyshift: say how its next value is made with --rotator random/);
    assert.deepEqual(await values('NEW_PARTNER_API_KEY'), ['fake-new-partner-key-0']);
    const record = await run(['rotate', 'WEBHOOK_SECRET__PENDING']);
    assert.equal(record.code, 2);
    assert.match(record.stderr, /secret NAME holds the rotation record of WEBHOOK_SECRET: it is never rotated itself \(rotate WEBHOOK_SECRET\)/);
    assert.equal((await run(['put', 'HOST_WALLET_PRIVATE_KEY'], 'fake-wallet-key-0')).code, 0);
    const wallet = await run(['rotate', 'HOST_WALLET_PRIVATE_KEY']);
    assert.equal(wallet.code, 1);
    assert.match(wallet.stderr, /KS_ERR_ROTATION_REFUSED: secret NAME is never rotated by keyshift \(policy private-key-static\)/);
    assert.deepEqual(await values('HOST_WALLET_PRIVATE_KEY'), ['fake-wallet-key-0']);
    assert.equal((await run(['rotate', 'HOST_WALLET_PRIVATE_KEY', '--rollback'])).code, 1, 'not by a rollback either');
    const missing = await run(['rotate', 'WEBHOOK_SECRET', '--store', 'no-such-store']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /KS_ERR_SOURCE_NOT_FOUND: no local store/);
    const rotator = await run(['rotate', 'WEBHOOK_SECRET', '--rotator', 'magic']);
    assert.equal(rotator.code, 2);
    assert.match(rotator.stderr, /--rotator must be random, hook, pg or keyring/);
    const noName = await run(['rotate']);
    assert.equal(noName.code, 2);
    const bake = await run(['rotate', 'WEBHOOK_SECRET', '--rotator', 'random', '--bake-ms', '0']);
    assert.equal(bake.code, 2);
    assert.match(bake.stderr, /^keyshift: usage: --bake-ms must be a positive number of milliseconds\n/, 'the message survives the screen of the value 0');
  });

  it('refuses by name alone before the store is read: a private key (exit 1) or a rotation record (exit 2) that was never put', async () => {
    const wallet = await run(['rotate', 'PAYOUT_PRIVATE_KEY', '--rotator', 'random']);
    assert.equal(wallet.code, 1, wallet.stderr);
    assert.match(wallet.stderr, /^keyshift: KS_ERR_ROTATION_REFUSED: secret NAME is never rotated by keyshift \(policy private-key-static\)/);
    const record = await run(['rotate', 'NEVER_PUT__PENDING', '--rotator', 'random']);
    assert.equal(record.code, 2, record.stderr);
    assert.match(record.stderr, /KS_ERR_INVALID_DECLARATION: secret NAME holds the rotation record of NEVER_PUT/);
    const list = JSON.parse((await run(['list', '--json'])).stdout) as { name: string }[];
    assert.ok(!list.some((s) => s.name.startsWith('PAYOUT_PRIVATE_KEY') || s.name.startsWith('NEVER_PUT')), 'nothing created');
  });

  it('--rollback --to a missing version exits 3, to a disabled one 1, to the latest 1, and records no rotation', async () => {
    assert.equal((await run(['put', 'ROLLBACK_TOKEN'], 'fake-rollback-token-1')).code, 0);
    assert.equal((await run(['put', 'ROLLBACK_TOKEN'], 'fake-rollback-token-2')).code, 0);
    const missing = await run(['rotate', 'ROLLBACK_TOKEN', '--rollback', '--to', '99']);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /^keyshift: KS_ERR_SOURCE_NOT_FOUND: secret NAME has no version VERSION /);
    const latest = await run(['rotate', 'ROLLBACK_TOKEN', '--rollback', '--to', '2']);
    assert.equal(latest.code, 1, latest.stderr);
    assert.match(latest.stderr, /KS_ERR_ROTATION_REFUSED: version VERSION of NAME is already the latest/);
    assert.equal((await run(['disable', 'ROLLBACK_TOKEN', '1'])).code, 0);
    const disabled = await run(['rotate', 'ROLLBACK_TOKEN', '--rollback', '--to', '1']);
    assert.equal(disabled.code, 1, disabled.stderr);
    assert.match(disabled.stderr, /KS_ERR_VERSION_DISABLED/);
    const status = await run(['rotate', 'ROLLBACK_TOKEN', '--status', '--json']);
    assert.equal((JSON.parse(status.stdout) as { rotation: unknown }).rotation, null, 'no rotation left under way');
    assert.equal((await run(['enable', 'ROLLBACK_TOKEN', '1'])).code, 0);
    const back = await run(['rotate', 'ROLLBACK_TOKEN', '--rollback', '--to', '1']);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(await values('ROLLBACK_TOKEN'), ['fake-rollback-token-1', 'fake-rollback-token-2', 'fake-rollback-token-1']);
    noValueIn(missing, ['fake-rollback-token-1', 'fake-rollback-token-2']);
  });

  it('--rollback of a secret with nothing before its latest exits 1 and records no rotation (a random rotation runs next); --abandon of an unknown name exits 3', async () => {
    assert.equal((await run(['put', 'LONE_TOKEN'], 'fake-lone-token-1')).code, 0);
    const lone = await run(['rotate', 'LONE_TOKEN', '--rollback']);
    assert.equal(lone.code, 1, lone.stderr);
    assert.match(lone.stderr, /^keyshift: KS_ERR_ROTATION_REFUSED: NAME has no enabled version before the latest: name the version to roll back to\n$/);
    const status = await run(['rotate', 'LONE_TOKEN', '--status', '--json']);
    assert.equal((JSON.parse(status.stdout) as { rotation: unknown }).rotation, null, 'no rotation left under way');
    const next = await run(['rotate', 'LONE_TOKEN', '--rotator', 'random']);
    assert.equal(next.code, 0, next.stderr);
    const unknown = await run(['rotate', 'NEVER_PUT_TOKEN', '--abandon']);
    assert.equal(unknown.code, 3, unknown.stdout);
    assert.match(unknown.stderr, /^keyshift: KS_ERR_SOURCE_NOT_FOUND: secret NAME not found in the local store /);
  });

  it('--rotator keyring: refuses missing or bad --overlap, --instances without a token, a bad --min-delay (exit 2), echoing no option value', async () => {
    const keyring = (...extra: string[]) => run(['rotate', 'WEBHOOK_SECRET', '--rotator', 'keyring', ...extra]);
    const cases: Array<[string[], RegExp]> = [
      [[], /an HMAC keyset rotation needs --overlap DURATION/],
      [['--overlap', 'fake-overlap-7'], /--overlap must be a duration/],
      [['--overlap', '24h'], /an HMAC keyset rotation needs --instances URL1,URL2 .* or --min-delay DURATION/],
      [['--overlap', '24h', '--instances', 'http://127.0.0.1:9/'], /--instances needs the admin token/],
      [['--overlap', '24h', '--min-delay', 'fake-delay-7', '--token', 'fake-admin-token-7'], /--min-delay must be a duration/],
    ];
    const before = await values('WEBHOOK_SECRET');
    for (const [extra, message] of cases) {
      const result = await keyring(...extra);
      assert.equal(result.code, 2, `${extra.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      noValueIn(result, ['fake-overlap-7', 'fake-delay-7', 'fake-admin-token-7']);
    }
    assert.deepEqual(await values('WEBHOOK_SECRET'), before, 'nothing written');
  });

  it('as a real process (bin/keyshift.mjs): a rotation exits 0, a bad name exits 2 with one clear line', async () => {
    const childEnv = { ...env, NODE_OPTIONS: '' };
    const ok = await runBin(['rotate', 'WEBHOOK_SECRET', '--rotator', 'random'], { env: childEnv, cwd });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /WEBHOOK_SECRET: version \d+ is current/);
    const bad = await runBin(['rotate', 'WEBHOOK-SECRET?'], { env: childEnv, cwd });
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr, 'keyshift: KS_ERR_INVALID_DECLARATION: invalid secret name: character 15 is not one of A-Z a-z 0-9 _ -\n');
  });
});
