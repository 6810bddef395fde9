/**
 * Every store command on every store: the local store, Google Secret Manager (the
 * keyshift emulator, the official client over loopback) and AWS Secrets Manager (the
 * loopback endpoint, the official client), with the exit codes docs/cli.md documents.
 */
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { gcpRotationStore } from '../../src/rotation/staged/gcp-rotation-store.ts';
import { createRotationRunner } from '../../src/rotation/staged/rotation-runner.ts';
import { type AwsSecretsManagerServer, startAwsSecretsManagerServer } from '../../src/testing/aws-secrets-manager-server.ts';
import { runBin, runInProcess } from './_run.ts';

const PROJECT = 'pgp-cli-test';
const REGION = 'eu-west-1';

interface Target {
  kind: 'local' | 'gcp' | 'aws';
  store: string;
  env: NodeJS.ProcessEnv;
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('CLI on every store: local, gcp://PROJECT, aws://REGION', () => {
  let dir: string;
  let emulatorStore: LocalStore;
  let emulator: Emulator;
  let aws: AwsSecretsManagerServer;
  const targets: Target[] = [];
  const cwd = () => dir;
  const run = (t: Target, args: string[], stdin?: string) =>
    runInProcess([...args, '--store', t.store], { env: t.env, cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
  const json = (stdout: string): unknown => JSON.parse(stdout);
  const server = (): AwsSecretsManagerServer => aws;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ks-cli-stores-'));
    emulatorStore = await openLocalStore({ dir: join(dir, 'emulated'), masterKey: randomBytes(32) });
    emulator = await startEmulator({ store: emulatorStore, project: PROJECT });
    aws = await startAwsSecretsManagerServer({ region: REGION });
    const base = { PATH: process.env.PATH };
    targets.push(
      { kind: 'local', store: join(dir, 'local'), env: { ...base, KEYSHIFT_MASTER_KEY: randomBytes(32).toString('base64') } },
      { kind: 'gcp', store: `gcp://${PROJECT}`, env: { ...base, SECRET_MANAGER_EMULATOR_HOST: emulator.endpoint } },
      {
        kind: 'aws',
        store: `aws://${REGION}`,
        env: { ...base, AWS_ACCESS_KEY_ID: 'fake-key-id', AWS_SECRET_ACCESS_KEY: 'fake-secret-key', AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint },
      },
    );
  });
  after(async () => {
    await emulator.close();
    await emulatorStore.close();
    await aws.close();
    await rm(dir, { recursive: true, force: true });
  });

  for (const kind of ['local', 'gcp', 'aws'] as const) {
    it(`put, get, versions, list, and the state commands on ${kind}`, async () => {
      const t = targets.find((x) => x.kind === kind)!;
      const one = await run(t, ['put', 'API_KEY', '--json'], 'fake-value-one');
      assert.equal(one.code, 0, one.stderr);
      assert.equal((json(one.stdout) as { version: number }).version, 1);
      const two = await run(t, ['put', 'API_KEY', '--json'], 'fake-value-two');
      assert.equal((json(two.stdout) as { version: number }).version, 2);
      const stale = await run(t, ['put', 'API_KEY', '--if-latest', '1'], 'fake-value-stale');
      assert.equal(stale.code, 1);
      assert.match(stale.stderr, /KS_ERR_CONFLICT/);

      const redacted = await run(t, ['get', 'API_KEY']);
      assert.equal(redacted.code, 0, redacted.stderr);
      assert.match(redacted.stdout, /API_KEY version 2: \[redacted\]/);
      assert.ok(!redacted.stdout.includes('fake-value'));
      const first = await run(t, ['get', 'API_KEY', '--version', '1', '--reveal']);
      assert.equal(first.stdout, 'fake-value-one');

      const versions = await run(t, ['versions', 'API_KEY', '--json']);
      assert.deepEqual((json(versions.stdout) as { version: number }[]).map((v) => v.version), [1, 2], 'the stale put wrote nothing');
      const list = await run(t, ['list', '--json']);
      const listed = (json(list.stdout) as { name: string; latest: number }[]).find((s) => s.name === 'API_KEY');
      assert.equal(listed?.latest, 2);
      const missing = await run(t, ['get', 'NO_SUCH_SECRET']);
      assert.equal(missing.code, 3, missing.stderr);

      const disabled = await run(t, ['disable', 'API_KEY', '1', '--json']);
      if (kind === 'aws') {
        assert.equal(disabled.code, 2);
        assert.match(disabled.stderr, /no state to disable: move the staging labels/);
        for (const command of ['enable', 'destroy']) assert.equal((await run(t, [command, 'API_KEY', '1'])).code, 2);
        const stage = await run(t, ['get', 'API_KEY', '--version', 'AWSPREVIOUS', '--reveal']);
        assert.equal(stage.stdout, 'fake-value-one', 'a staging label selects a version');
        return;
      }
      assert.equal((json(disabled.stdout) as { state: string }).state, 'disabled');
      const refused = await run(t, ['get', 'API_KEY', '--version', '1']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /KS_ERR_VERSION_DISABLED/);
      assert.equal((json((await run(t, ['enable', 'API_KEY', '1', '--json'])).stdout) as { state: string }).state, 'enabled');
      assert.equal((json((await run(t, ['destroy', 'API_KEY', '1', '--json'])).stdout) as { state: string }).state, 'destroyed');
    });

    it(`rotate, --status, --rollback and --abandon on ${kind}`, async () => {
      const t = targets.find((x) => x.kind === kind)!;
      await run(t, ['put', 'WEBHOOK_SECRET'], 'fake-webhook-one');
      const rotated = await run(t, ['rotate', 'WEBHOOK_SECRET', '--rotator', 'random', '--json']);
      assert.equal(rotated.code, 0, rotated.stderr);
      assert.equal((json(rotated.stdout) as { outcome: string; version: number }).version, 2);
      const status = await run(t, ['rotate', 'WEBHOOK_SECRET', '--status', '--json']);
      assert.equal((json(status.stdout) as { lastRotation: { rotator: string } }).lastRotation.rotator, 'random-secret');
      const again = await run(t, ['rotate', 'WEBHOOK_SECRET', '--json']);
      assert.equal(again.code, 0, 'the recorded rotator is used without --rotator');
      const rolled = await run(t, ['rotate', 'WEBHOOK_SECRET', '--rollback', '--to', '1']);
      assert.equal(rolled.code, 0, rolled.stderr);
      assert.equal((await run(t, ['get', 'WEBHOOK_SECRET', '--reveal'])).stdout, 'fake-webhook-one');
      const abandon = await run(t, ['rotate', 'WEBHOOK_SECRET', '--abandon']);
      assert.match(abandon.stdout, /no rotation under way/);
    });
  }

  it('gcp: a rotation whose lease another runner holds is busy (exit 1); a failed one resumes and writes one version', async () => {
    const t = targets.find((x) => x.kind === 'gcp')!;
    await run(t, ['put', 'SIGNING_KEY'], 'fake-signing-one');
    const store = gcpRotationStore({ project: PROJECT, clientOptions: emulator.clientOptions() });
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const inCreate = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const holding = createRotationRunner({ store, logger: false }).run('SIGNING_KEY', {
      kind: 'random-secret',
      async create() {
        entered();
        await gate;
        return 'fake-signing-two';
      },
    });
    await inCreate;
    const busy = await run(t, ['rotate', 'SIGNING_KEY', '--rotator', 'random']);
    assert.equal(busy.code, 1);
    assert.match(busy.stdout, /another runner .* holds rotation/);
    release();
    assert.equal((await holding).outcome, 'finished');
    await store.close();

    emulator.faults.inject('AddSecretVersion', { code: 'UNAVAILABLE', times: 1 });
    const failed = await run(t, ['rotate', 'SIGNING_KEY', '--rotator', 'random']);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /failed at stage .*run keyshift rotate again to resume/);
    const before = (json((await run(t, ['versions', 'SIGNING_KEY', '--json'])).stdout) as unknown[]).length;
    const resumed = await run(t, ['rotate', 'SIGNING_KEY', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const afterVersions = json((await run(t, ['versions', 'SIGNING_KEY', '--json'])).stdout) as unknown[];
    assert.equal(afterVersions.length, before + 1, 'the resumed rotation put exactly one version');
  });

  it('aws: a failed rotation resumes at its stage and writes one version; a held lease is busy; --status, --abandon, --rollback', async () => {
    const t = targets.find((x) => x.kind === 'aws')!;
    await run(t, ['put', 'PARTNER_API_KEY'], 'fake-partner-one');
    const marker = join(dir, 'partner-down');
    const hook = join(dir, 'partner-hook.mjs');
    await writeFile(marker, '');
    let issued = 0;
    (globalThis as { __ksIssue?: () => string }).__ksIssue = () => `fake-partner-issued-${++issued}`;
    await writeFile(
      hook,
      [
        "import { existsSync } from 'node:fs';",
        'export default {',
        "  kind: 'partner-hook',",
        '  create: async () => globalThis.__ksIssue(),',
        `  test: async () => { if (existsSync(${JSON.stringify(marker)})) throw new Error('partner rejects the key'); },`,
        '};',
      ].join('\n'),
    );
    const failed = await run(t, ['rotate', 'PARTNER_API_KEY', '--rotator', 'hook', '--hook', hook]);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /failed at stage test .*run keyshift rotate again to resume/);
    const status = await run(t, ['rotate', 'PARTNER_API_KEY', '--status']);
    assert.match(status.stdout, /partner-hook rotation \S+ at stage test, attempt 1, AWSPENDING version 2; AWSCURRENT is version 1; last failure at test: KS_ERR_ROTATION_REFUSED/);
    assert.equal((await run(t, ['get', 'PARTNER_API_KEY', '--reveal'])).stdout, 'fake-partner-one', 'AWSCURRENT stays');

    // Another runner's live lease on the record: busy, exit 1.
    const tags = server().direct('DescribeSecret', { SecretId: 'PARTNER_API_KEY' }).Tags as Array<{ Key: string; Value: string }>;
    const lease = tags.find((x) => x.Key === 'keyshift:rotation-lease');
    assert.ok(lease);
    server().direct('TagResource', { SecretId: 'PARTNER_API_KEY', Tags: [{ Key: lease.Key, Value: `holder=other-host:42 until=${Date.now() + 60_000}` }] });
    const busy = await run(t, ['rotate', 'PARTNER_API_KEY', '--rotator', 'hook', '--hook', hook, '--json']);
    assert.equal(busy.code, 1);
    assert.deepEqual(
      (({ outcome, heldBy, stage }) => ({ outcome, heldBy, stage }))(json(busy.stdout) as { outcome: string; heldBy: string; stage: string }),
      { outcome: 'busy', heldBy: 'other-host:42', stage: 'test' },
    );
    server().direct('TagResource', { SecretId: 'PARTNER_API_KEY', Tags: [{ Key: lease.Key, Value: 'holder=other-host:42 until=0' }] });

    await rm(marker);
    const resumed = await run(t, ['rotate', 'PARTNER_API_KEY', '--rotator', 'hook', '--hook', hook, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual((({ outcome, version, previousVersion }) => ({ outcome, version, previousVersion }))(json(resumed.stdout) as Record<string, unknown>), {
      outcome: 'finished',
      version: 2,
      previousVersion: 1,
    });
    assert.equal(issued, 1, 'the value was issued once');
    assert.equal((json((await run(t, ['versions', 'PARTNER_API_KEY', '--json'])).stdout) as unknown[]).length, 2, 'exactly one version written');
    assert.equal((await run(t, ['get', 'PARTNER_API_KEY', '--reveal'])).stdout, 'fake-partner-issued-1');
    assert.equal((await run(t, ['get', 'PARTNER_API_KEY', '--version', 'AWSPREVIOUS', '--reveal'])).stdout, 'fake-partner-one');
    const quiet = json((await run(t, ['rotate', 'PARTNER_API_KEY', '--status', '--json'])).stdout) as { rotation: unknown; lastRotation: { rotator: string } };
    assert.deepEqual({ rotation: quiet.rotation, rotator: quiet.lastRotation.rotator }, { rotation: null, rotator: 'partner-hook' });
    const guessed = await run(t, ['rotate', 'PARTNER_API_KEY']);
    assert.equal(guessed.code, 2, 'a hook rotator is never guessed');

    const rolled = await run(t, ['rotate', 'PARTNER_API_KEY', '--rollback', '--json']);
    assert.equal(rolled.code, 0, rolled.stderr);
    assert.equal((json(rolled.stdout) as { version: number }).version, 3);
    assert.equal((await run(t, ['get', 'PARTNER_API_KEY', '--reveal'])).stdout, 'fake-partner-one', 'AWSPREVIOUS is back as a new version');

    await writeFile(marker, '');
    assert.equal((await run(t, ['rotate', 'PARTNER_API_KEY', '--rotator', 'hook', '--hook', hook])).code, 1);
    const abandoned = await run(t, ['rotate', 'PARTNER_API_KEY', '--abandon', '--json']);
    assert.equal(abandoned.code, 0, abandoned.stderr);
    assert.equal((json(abandoned.stdout) as { abandoned: { stage: string } }).abandoned.stage, 'test');
    assert.match((await run(t, ['rotate', 'PARTNER_API_KEY', '--status'])).stdout, /no rotation under way; AWSCURRENT is version 3/);
    assert.equal((await run(t, ['get', 'PARTNER_API_KEY', '--version', 'AWSPENDING'])).code, 3, 'AWSPENDING is gone');
    for (const r of [failed, status, busy, resumed, rolled, abandoned]) assert.ok(!`${r.stdout}${r.stderr}`.includes('fake-partner'));
  });

  it('a permission denied on one command: exit 1, KS_ERR_SOURCE_DENIED, nothing written (gcp and aws)', async () => {
    const gcp = targets.find((x) => x.kind === 'gcp')!;
    await run(gcp, ['put', 'BLOCKED_KEY'], 'fake-denied-one');
    emulator.faults.inject('AddSecretVersion', { code: 'PERMISSION_DENIED', times: 1 });
    const denied = await run(gcp, ['put', 'BLOCKED_KEY'], 'fake-denied-two');
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /KS_ERR_SOURCE_DENIED: .*denied/);
    assert.equal((json((await run(gcp, ['versions', 'BLOCKED_KEY', '--json'])).stdout) as unknown[]).length, 1);

    const awsTarget = targets.find((x) => x.kind === 'aws')!;
    await run(awsTarget, ['put', 'BLOCKED_KEY'], 'fake-denied-one');
    aws.inject({ operation: 'PutSecretValue', error: 'AccessDeniedException', times: 1 });
    const awsDenied = await run(awsTarget, ['put', 'BLOCKED_KEY'], 'fake-denied-two');
    assert.equal(awsDenied.code, 1);
    assert.match(awsDenied.stderr, /KS_ERR_SOURCE_DENIED: .*secretsmanager:PutSecretValue/);
    assert.equal((json((await run(awsTarget, ['versions', 'BLOCKED_KEY', '--json'])).stdout) as unknown[]).length, 1);
    for (const r of [denied, awsDenied]) assert.ok(!r.stderr.includes('fake-denied'));
  });

  it('a store URL naming nothing reachable, or malformed: a clear error and exit code', async () => {
    const port = await closedPort();
    const gcp = await runInProcess(['get', 'API_KEY', '--store', `gcp://${PROJECT}`, '--endpoint', `127.0.0.1:${port}`], { env: {}, cwd: cwd() });
    assert.equal(gcp.code, 1);
    assert.match(gcp.stderr, /KS_ERR_SOURCE_UNAVAILABLE/);
    const awsRun = await runInProcess(['list', '--store', `aws://${REGION}`, '--endpoint', `http://127.0.0.1:${port}`], {
      env: { AWS_ACCESS_KEY_ID: 'fake', AWS_SECRET_ACCESS_KEY: 'fake' },
      cwd: cwd(),
    });
    assert.equal(awsRun.code, 1);
    assert.match(awsRun.stderr, /KS_ERR_SOURCE_UNAVAILABLE: .*could not reach the endpoint/);
    const otherProject = await runInProcess(['list', '--store', 'gcp://someone-else', '--endpoint', emulator.endpoint], { env: {}, cwd: cwd() });
    assert.equal(otherProject.code, 1, 'the emulator holds another project: denied');
    assert.match(otherProject.stderr, /KS_ERR_SOURCE_DENIED/);
    for (const store of ['gcp://Not_A_Project', 'aws://moon-1', 'ftp://x']) {
      const bad = await runInProcess(['list', '--store', store], { env: {}, cwd: cwd() });
      assert.equal(bad.code, 2, store);
      assert.match(bad.stderr, /--store/);
    }
  });

  it('aws: missing credentials are a clear KS_ERR_SOURCE_DENIED (a real process, no credentials anywhere)', async () => {
    const result = await runBin(['list', '--store', `aws://${REGION}`, '--endpoint', aws.endpoint], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
        AWS_CONFIG_FILE: join(dir, 'none'),
      },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /KS_ERR_SOURCE_DENIED: .*credentials are missing/);
  });
});
