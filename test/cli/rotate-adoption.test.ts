// `keyshift rotate NAME --bake-ms MS` on a local store: a rotation of an entry that rolls out
// by canary waits for the fleet's adoption (exit 0, "rolling out"); a halted rollout of its
// version fails it (exit 1, KS_ERR_ROLLOUT_HALTED, the rollback path), --status shows it, and
// the rollback path (--abandon, --rollback) brings the previous value back as a new version.
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateMasterKey, openLocalStore } from '../../src/local-store/index.ts';
import { startAwsSecretsManagerServer } from '../../src/testing/aws-secrets-manager-server.ts';
import { type CliRun, runInProcess } from './_run.ts';

const NAME = 'PARTNER_API_TOKEN';

describe('CLI: keyshift rotate --bake-ms (a rotation that waits for the canary rollout)', () => {
  let cwd: string;
  let env: NodeJS.ProcessEnv;
  const run = (argv: string[], stdin?: string): Promise<CliRun> => runInProcess(argv, { env, cwd, ...(stdin === undefined ? {} : { stdin }) });
  const values = async (): Promise<string[]> => {
    const store = await openLocalStore({ dir: join(cwd, 'store'), create: false, env });
    try {
      const out: string[] = [];
      for (const { version } of await store.versions(NAME)) out.push(Buffer.from((await store.access(NAME, version)).value).toString('utf8'));
      return out;
    } finally {
      await store.close();
    }
  };

  before(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'keyshift-cli-rotate-adoption-'));
    env = { PATH: process.env.PATH, HOME: process.env.HOME, KEYSHIFT_MASTER_KEY: generateMasterKey(), KEYSHIFT_STORE_DIR: 'store' };
    assert.equal((await run(['put', NAME], 'fake-partner-token-0000')).code, 0);
  });
  after(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('waits for adoption, fails on a halted rollout with the rollback path, and rolls back', async () => {
    const put = await run(['rotate', NAME, '--rotator', 'random', '--bake-ms', '600000', '--margin-ms', '0', '--json']);
    assert.equal(put.code, 0, put.stderr);
    const waiting = JSON.parse(put.stdout) as { outcome: string; waitingFor: string; version: number; previousVersion: number; retryAt: number };
    assert.deepEqual([waiting.outcome, waiting.waitingFor, waiting.version, waiting.previousVersion], ['waiting', 'adoption', 2, 1]);
    assert.ok(waiting.retryAt > Date.now() + 500_000, 'adopted after the bake');
    const again = await run(['rotate', NAME, '--bake-ms', '600000']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /version 2 is put \(was 1\) and rolling out/);

    assert.equal((await run(['rollout', NAME, '--halt', '--reason', 'the partner answers 401'])).code, 0);
    const failed = await run(['rotate', NAME, '--bake-ms', '600000']);
    assert.equal(failed.code, 1, 'a halted rollout is a failed rotation');
    assert.match(failed.stderr, /failed \(KS_ERR_ROLLOUT_HALTED\)/);
    assert.match(failed.stderr, /rollout of version 2 was halted \(the partner answers 401\); the fleet serves version 1 again and the cleanup does not run/);
    assert.match(failed.stderr, /--abandon, then keyshift rotate \S+ --rollback/);
    const json = await run(['rotate', NAME, '--bake-ms', '600000', '--json']);
    assert.equal(json.code, 1);
    const result = JSON.parse(json.stdout) as { outcome: string; stage: string; error: { code: string } };
    assert.deepEqual([result.outcome, result.stage, result.error.code], ['failed', 'cleanup', 'KS_ERR_ROLLOUT_HALTED']);
    const status = await run(['rotate', NAME, '--status']);
    assert.match(status.stdout, /at stage cleanup.*last failure at cleanup: KS_ERR_ROLLOUT_HALTED/);

    // the rollback path the message gives
    assert.equal((await run(['rotate', NAME, '--abandon'])).code, 0);
    const back = await run(['rotate', NAME, '--rollback', '--json']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal((JSON.parse(back.stdout) as { version: number }).version, 3);
    const [v1, v2, v3] = await values();
    assert.equal(v3, v1, 'the latest value is the one before the halted version');
    for (const r of [put, again, failed, json, status, back]) assert.ok(!`${r.stdout}${r.stderr}`.includes(v2!) && !`${r.stdout}${r.stderr}`.includes(v1!), 'no value printed');
  });

  it('refuses a bad --bake-ms, a --margin-ms alone, and --bake-ms on aws:// (exit 2)', async () => {
    for (const argv of [['--bake-ms', '0'], ['--bake-ms', 'soon'], ['--margin-ms', '5'], ['--bake-ms', '1000', '--margin-ms', '-1']]) {
      const r = await run(['rotate', NAME, '--rotator', 'random', ...argv]);
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    }
    const aws = await startAwsSecretsManagerServer({ region: 'eu-west-1' });
    try {
      const awsEnv = { PATH: process.env.PATH, AWS_ACCESS_KEY_ID: 'fake-key-id', AWS_SECRET_ACCESS_KEY: 'fake-secret-key', AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint };
      const put = await runInProcess(['put', NAME, '--store', 'aws://eu-west-1'], { env: awsEnv, cwd, stdin: 'fake-partner-token-aws' });
      assert.equal(put.code, 0, put.stderr);
      const r = await runInProcess(['rotate', NAME, '--rotator', 'random', '--bake-ms', '60000', '--store', 'aws://eu-west-1'], { env: awsEnv, cwd });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /aws:\/\/ keeps no rollout marker/);
    } finally {
      await aws.close();
    }
  });
});
