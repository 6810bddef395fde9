/**
 * `keyshift rollout NAME --store gcp://PROJECT` against keyshift's Secret Manager emulator,
 * through the official client: show, --halt, --resume, --promote, --json. The marker is the
 * secret's `keyshift-rollout` annotation, written with the secret's etag, other annotations
 * kept; a manager on gcpSecretManager() acts on what the CLI wrote.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { ROLLOUT_ANNOTATION } from '../../src/core/adoption.ts';
import { type Emulator, startEmulator } from '../../src/emulator/index.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { type LocalStore, openLocalStore } from '../../src/local-store/index.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { createFakeClock } from '../../src/testing/index.ts';
import { runInProcess } from './_run.ts';

const PROJECT = 'pgp-rollout-cli';

interface View {
  name: string;
  version: string;
  previous: string;
  state: string;
  fraction?: number;
  marker?: { version: string; state: string; reason?: string; at?: string };
  markerError?: string;
}

describe('CLI: keyshift rollout on gcp://PROJECT (the emulator, the official client)', () => {
  let dir: string;
  let backing: LocalStore;
  let emulator: Emulator;
  let client: SecretManagerServiceClient;
  const secret = (id: string) => `projects/${PROJECT}/secrets/${id}`;
  const env = () => ({ PATH: process.env.PATH, SECRET_MANAGER_EMULATOR_HOST: emulator.endpoint });
  const run = (...argv: string[]) => runInProcess(['rollout', 'CN_API_KEY', '--store', `gcp://${PROJECT}`, ...argv], { env: env(), cwd: dir });
  const view = async (...argv: string[]): Promise<View> => {
    const r = await run(...argv, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as View;
  };
  const annotations = async (): Promise<{ annotations: Record<string, string>; etag: string }> => {
    const [info] = await client.getSecret({ name: secret('CN_API_KEY') });
    return { annotations: { ...((info.annotations as Record<string, string> | null) ?? {}) }, etag: info.etag ?? '' };
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keyshift-rollout-gcp-'));
    backing = await openLocalStore({ dir: join(dir, 'emulated'), masterKey: randomBytes(32) });
    emulator = await startEmulator({ store: backing, project: PROJECT });
    client = new SecretManagerServiceClient(emulator.clientOptions());
    await client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: 'CN_API_KEY',
      secret: { replication: { automatic: {} }, annotations: { team: 'payments' } },
    });
    for (const value of ['fake-key-one', 'fake-key-two']) {
      await client.addSecretVersion({ parent: secret('CN_API_KEY'), payload: { data: Buffer.from(value) } });
    }
  });
  after(async () => {
    await client?.close();
    await emulator?.close();
    await backing?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shows, halts, resumes and promotes through the annotation, with the etag, keeping the others', async () => {
    const shown = await view('--bake-ms', '600000', '--steps', '0.1,0.5');
    assert.deepEqual([shown.version, shown.previous, shown.state, shown.fraction, shown.marker], ['2', '1', 'rolling-out', 0.1, undefined]);

    const before = await annotations();
    const halted = await view('--halt', '--reason', 'provider says not active');
    assert.deepEqual([halted.state, halted.marker?.version, halted.marker?.reason], ['halted', '2', 'provider says not active']);
    const after = await annotations();
    assert.notEqual(after.etag, before.etag, 'UpdateSecret moved the etag');
    assert.equal(after.annotations.team, 'payments', 'other annotations kept');
    const stored = JSON.parse(after.annotations[ROLLOUT_ANNOTATION] ?? '{}') as { version?: string; state?: string; reason?: string };
    assert.deepEqual([stored.version, stored.state, stored.reason], ['2', 'halted', 'provider says not active']);

    // what an instance reads: the source's marker, through its own client
    const source = gcpSecretManager({ project: PROJECT, clientOptions: emulator.clientOptions() });
    const marker = await source.rolloutMarker?.('CN_API_KEY', { signal: AbortSignal.timeout(10_000) });
    assert.deepEqual([marker?.version, marker?.state], ['2', 'halted']);

    const table = await run();
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /state\s+halted/);
    assert.match(table.stdout, /provider says not active/);

    const resumed = await view('--resume');
    assert.deepEqual([resumed.state, resumed.marker], ['rolling-out', undefined]);
    assert.equal((await annotations()).annotations[ROLLOUT_ANNOTATION], undefined, 'the marker is removed');
    assert.equal(await source.rolloutMarker?.('CN_API_KEY', { signal: AbortSignal.timeout(10_000) }), undefined);

    const promoted = await view('--promote', '--bake-ms', '600000');
    assert.deepEqual([promoted.state, promoted.fraction, promoted.marker?.state], ['promoted', 1, 'promoted']);
    assert.equal((await annotations()).annotations.team, 'payments');
    await source.close?.();
  });

  it('acts on a given --version; a newer version is rolling out again, and the marker of the older one is kept as it is', async () => {
    const halted = await view('--halt', '--version', '1');
    assert.deepEqual([halted.version, halted.state], ['1', 'halted']);
    const latest = await view();
    assert.deepEqual([latest.version, latest.state, latest.marker?.version], ['2', 'rolling-out', '1']);
    await view('--resume');
  });

  it('a manager on gcpSecretManager() steps back on the halt the CLI wrote, and serves at once on its promote', async () => {
    const clock = createFakeClock();
    const source = gcpSecretManager({ project: PROJECT, clientOptions: emulator.clientOptions() });
    const ks = createKeyshift(defineSecrets({ CN_API_KEY: { type: t.string(), category: 'api-key', ttlMs: 3_600_000, adoption: { bakeMs: 60_000, steps: [0.5] } } }), {
      source,
      clock,
      logger: false,
      instanceId: 'cli-gcp-0',
    });
    try {
      await ks.ready();
      const served = () => ks.status().entries[0]?.version;
      assert.equal(served(), '2');
      await client.addSecretVersion({ parent: secret('CN_API_KEY'), payload: { data: Buffer.from('fake-key-three') } });
      await ks.refresh('CN_API_KEY');
      // this instance's slot for version 3 is below 0.5 (adoptionSlot('cli-gcp-0', ...)): it is in the first slice
      assert.equal(served(), '3');
      await clock.tick(60_000 / 2 - 1); // still inside the bake
      const halts: string[] = [];
      ks.on('rollout-halted', (e) => halts.push(`${e.version}:${e.by}:${e.steppedBack}`));
      const halt = await view('--halt');
      assert.deepEqual([halt.version, halt.state], ['3', 'halted']);
      await clock.tick(1_100);
      await ks.refresh('CN_API_KEY');
      assert.deepEqual(halts, ['3:marker:true']);
      assert.equal(served(), '2', 'stepped back to the previous version');
      assert.equal(ks.status().entries[0]?.rollout?.halted, true);
      // past the bake: a halted version is never adopted
      await clock.tick(60_000);
      assert.equal(served(), '2');

      const promote = await view('--promote');
      assert.equal(promote.state, 'promoted');
      await clock.tick(1_100);
      await ks.refresh('CN_API_KEY');
      assert.equal(served(), '3', 'served at once on the promote marker');
    } finally {
      await ks.close();
      await source.close?.();
    }
  });

  it('a marker another tool wrote is shown as unreadable; a missing secret exits 3; no value is ever printed', async () => {
    const { annotations: current, etag } = await annotations();
    await client.updateSecret({ secret: { name: secret('CN_API_KEY'), annotations: { ...current, [ROLLOUT_ANNOTATION]: 'paused!' }, etag }, updateMask: { paths: ['annotations'] } });
    const bad = await view();
    assert.ok(bad.markerError !== undefined && bad.marker === undefined);
    const table = await run();
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /unreadable \(ignored by instances\)/);
    // --halt replaces the foreign marker (with the etag), keeping the other annotations
    const halted = await view('--halt');
    assert.equal(halted.state, 'halted');
    assert.equal((await annotations()).annotations.team, 'payments');
    for (const output of [bad, halted].map((v) => JSON.stringify(v)).concat(table.stdout)) {
      assert.ok(!output.includes('fake-key'), 'no value printed');
    }
    const missing = await runInProcess(['rollout', 'NO_SUCH_SECRET', '--store', `gcp://${PROJECT}`], { env: env(), cwd: dir });
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /KS_ERR_SOURCE_NOT_FOUND: .*not found/); // the CLI never echoes a positional back (it says NAME)
    const endpoint = await runInProcess(['rollout', 'CN_API_KEY', '--store', `gcp://${PROJECT}`, '--endpoint', emulator.endpoint, '--json'], { env: { PATH: process.env.PATH }, cwd: dir });
    assert.equal(endpoint.code, 0, endpoint.stderr);
    assert.equal((JSON.parse(endpoint.stdout) as View).state, 'halted');
  });
});
