/**
 * The staged rotation on AWS Secrets Manager (AWSPENDING, AWSCURRENT, AWSPREVIOUS),
 * through the official @aws-sdk/client-secrets-manager against the loopback endpoint,
 * with a real manager reading the secret through the AWS source.
 */
import '../sources/_aws-fixture.ts';
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createKeyshift, defineSecrets, KeyshiftError, t } from '../../src/index.ts';
import { awsRotationStore } from '../../src/rotation/staged/aws-rotation-store.ts';
import { AWS_CLAIM_STAGE, createAwsRotationRunner } from '../../src/rotation/staged/aws-rotation-runner.ts';
import { randomSecret } from '../../src/rotation/staged/rotators/random-secret.ts';
import type { Rotator } from '../../src/rotation/staged/rotator.ts';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import { type AwsSecretsManagerServer, startAwsSecretsManagerServer } from '../../src/testing/aws-secrets-manager-server.ts';
import { clientConfigFor, seed } from '../sources/_aws-fixture.ts';

type Versions = { Versions: Array<{ VersionId: string; VersionStages: string[]; CreatedDate: number }> };

describe('Rotation: the staged runner on AWS Secrets Manager stages', () => {
  let server: AwsSecretsManagerServer;
  let store: ReturnType<typeof awsRotationStore>;

  before(async () => {
    server = await startAwsSecretsManagerServer();
    store = awsRotationStore({ clientConfig: clientConfigFor(server) });
  });
  after(async () => {
    await store.close();
    await server.close();
  });

  /** VersionId -> labels, oldest first. */
  const stages = (name: string): string[][] =>
    (server.direct('ListSecretVersionIds', { SecretId: name, IncludeDeprecated: true }) as Versions).Versions.sort((a, b) => a.CreatedDate - b.CreatedDate).map((v) =>
      [...v.VersionStages].sort(),
    );
  const currentValue = (name: string): string => String(server.direct('GetSecretValue', { SecretId: name }).SecretString);
  const tags = (name: string): string[] => ((server.direct('DescribeSecret', { SecretId: name }).Tags as Array<{ Key: string }> | undefined) ?? []).map((t) => t.Key).sort();

  function manager(name: string) {
    const declaration = defineSecrets({ [name]: { type: t.string(), category: 'webhook-secret' } });
    // orderByCreatedDate is left at its default (true): a rollback must still be served.
    return createKeyshift(declaration, { logger: false, minRefreshIntervalMs: 1, source: awsSecretsManager({ clientConfig: clientConfigFor(server) }) });
  }

  it('rotates through AWSPENDING to AWSCURRENT (AWS moves AWSPREVIOUS), and a rollback is a new version an instance serves', async () => {
    seed(server, 'WEBHOOK_SECRET', 'fake-webhook-v1');
    const ks = manager('WEBHOOK_SECRET');
    await ks.ready();
    assert.equal(ks.get('WEBHOOK_SECRET').reveal(), 'fake-webhook-v1');
    const runner = createAwsRotationRunner({ store, logger: false });
    const seen: string[] = [];
    runner.on('stage', (e) => seen.push(e.stage));

    const result = await runner.run('WEBHOOK_SECRET', randomSecret({ length: 40 }));
    assert.equal(result.outcome, 'finished', result.error?.message);
    assert.deepEqual({ version: result.version, previousVersion: result.previousVersion }, { version: 2, previousVersion: 1 });
    assert.deepEqual(seen, ['create', 'set', 'test', 'finish', 'cleanup']);
    assert.deepEqual(stages('WEBHOOK_SECRET'), [['AWSPREVIOUS'], ['AWSCURRENT']], 'AWSPENDING removed, AWSPREVIOUS moved by AWS');
    assert.deepEqual(tags('WEBHOOK_SECRET'), ['keyshift:last-rotation'], 'the record is gone, the last rotation kept');
    const rotated = currentValue('WEBHOOK_SECRET');
    assert.notEqual(rotated, 'fake-webhook-v1');
    await ks.refresh('WEBHOOK_SECRET');
    assert.equal(ks.get('WEBHOOK_SECRET').reveal(), rotated, 'the instance serves the new AWSCURRENT');

    const rolled = await runner.rollback('WEBHOOK_SECRET');
    assert.equal(rolled.outcome, 'finished', rolled.error?.message);
    assert.deepEqual({ version: rolled.version, previousVersion: rolled.previousVersion }, { version: 3, previousVersion: 2 });
    assert.equal(currentValue('WEBHOOK_SECRET'), 'fake-webhook-v1');
    assert.deepEqual(stages('WEBHOOK_SECRET'), [[], ['AWSPREVIOUS'], ['AWSCURRENT']]);
    await ks.refresh('WEBHOOK_SECRET');
    assert.equal(ks.get('WEBHOOK_SECRET').reveal(), 'fake-webhook-v1', 'the rollback is newer, so an instance ordering by CreatedDate serves it');
    const status = await runner.status('WEBHOOK_SECRET');
    assert.deepEqual({ latest: status.latest, rotation: status.rotation, rotator: status.lastRotation?.rotator }, { latest: 3, rotation: null, rotator: 'rollback' });
    await ks.close();
  });

  it('a step that fails leaves AWSCURRENT in service; the next run resumes at that stage and writes exactly one version', async () => {
    seed(server, 'API_TOKEN', 'fake-token-v1');
    let creates = 0;
    let tests = 0;
    const flaky: Rotator = {
      kind: 'flaky',
      async create() {
        creates += 1;
        return `fake-token-${creates}-new`;
      },
      async test() {
        tests += 1;
        if (tests === 1) throw new Error('the new token is not accepted yet');
        // The second run: the fault moves on to the finish's UpdateSecretVersionStage.
        if (tests === 2) server.inject({ operation: 'UpdateSecretVersionStage', error: 'InternalServiceError', times: 1 });
      },
    };
    const alerts: string[] = [];
    const runner = createAwsRotationRunner({ store, logger: false, onAlert: (a) => alerts.push(a.stage) });
    const first = await runner.run('API_TOKEN', flaky);
    assert.deepEqual({ outcome: first.outcome, stage: first.stage, code: first.error?.code }, { outcome: 'failed', stage: 'test', code: 'KS_ERR_ROTATION_REFUSED' });
    assert.equal(currentValue('API_TOKEN'), 'fake-token-v1');
    assert.deepEqual(stages('API_TOKEN'), [['AWSCURRENT'], ['AWSPENDING']]);
    const status = await runner.status('API_TOKEN');
    assert.equal(status.rotation?.stage, 'test');
    assert.equal(status.rotation?.lastError?.code, 'KS_ERR_ROTATION_REFUSED');
    assert.equal(status.rotation?.leaseUntil, 0, 'a failure releases the lease');
    assert.equal(status.rotation?.id, first.rotationId);

    const second = await runner.run('API_TOKEN', flaky);
    assert.deepEqual({ outcome: second.outcome, stage: second.stage, code: second.error?.code }, { outcome: 'failed', stage: 'finish', code: 'KS_ERR_SOURCE_UNAVAILABLE' });
    assert.equal(currentValue('API_TOKEN'), 'fake-token-v1');

    const third = await runner.run('API_TOKEN', flaky);
    assert.equal(third.outcome, 'finished', third.error?.message);
    assert.equal(third.rotationId, first.rotationId);
    assert.equal(third.attempts, 3);
    assert.equal(creates, 1, 'the value was made once');
    assert.equal(currentValue('API_TOKEN'), 'fake-token-1-new');
    assert.deepEqual(stages('API_TOKEN'), [['AWSPREVIOUS'], ['AWSCURRENT']], 'one version written in three attempts');
    assert.deepEqual(alerts, ['test', 'finish']);
  });

  it('a failure between the AWSPENDING claim and its record gives the label back: the next run starts again', async () => {
    seed(server, 'CLAIM_KEY', 'fake-claim-v1');
    const runner = createAwsRotationRunner({ store, logger: false });
    server.inject({ operation: 'TagResource', error: 'InternalServiceError', times: 1 });
    const failed = await runner.run('CLAIM_KEY', randomSecret());
    assert.deepEqual({ outcome: failed.outcome, stage: failed.stage, code: failed.error?.code }, { outcome: 'failed', stage: 'create', code: 'KS_ERR_SOURCE_UNAVAILABLE' });
    assert.ok(!stages('CLAIM_KEY').some((l) => l.includes('AWSPENDING')), 'no pending version left behind for others to take as foreign');
    assert.equal((await runner.status('CLAIM_KEY')).rotation, null);
    const next = await runner.run('CLAIM_KEY', randomSecret());
    assert.equal(next.outcome, 'finished', next.error?.message);
    assert.notEqual(next.rotationId, failed.rotationId);
    assert.equal(currentValue('CLAIM_KEY').length, 32);
  });

  it('a finish that returns another value, and a publish, are versions of their own made AWSCURRENT conditionally', async () => {
    seed(server, 'KEYSET', 'fake-keyset-v1');
    let finishes = 0;
    const runner = createAwsRotationRunner({ store, logger: false });
    const shaped: Rotator = {
      kind: 'shaped',
      create: async () => 'fake-keyset-pending',
      async set(ctx) {
        if (ctx.attempt === 1) await ctx.publish('fake-keyset-published');
      },
      async finish(ctx) {
        finishes += 1;
        if (finishes === 1) server.inject({ operation: 'UpdateSecretVersionStage', error: 'InternalServiceError', times: 1 });
        return `${ctx.pending.text()}-final`;
      },
    };
    const first = await runner.run('KEYSET', shaped);
    assert.deepEqual({ outcome: first.outcome, stage: first.stage }, { outcome: 'failed', stage: 'finish' });
    assert.equal(currentValue('KEYSET'), 'fake-keyset-published', 'the publish is served at once');
    const second = await runner.run('KEYSET', shaped);
    assert.equal(second.outcome, 'finished', second.error?.message);
    assert.equal(currentValue('KEYSET'), 'fake-keyset-pending-final');
    // v1, pending, published, final: the re-run finish put nothing new (same token, same value).
    assert.deepEqual(stages('KEYSET'), [[], [], ['AWSPREVIOUS'], ['AWSCURRENT']]);
    assert.deepEqual({ version: second.version, previousVersion: second.previousVersion }, { version: 4, previousVersion: 3 });
  });

  it('a runner holding the lease makes another one busy; two starting at once: one wins AWSPENDING, the other is busy', async () => {
    seed(server, 'SESSION_KEY', 'fake-session-v1');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered: () => void = () => undefined;
    const inSet = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const slow: Rotator = {
      kind: 'random-secret',
      create: async () => 'fake-session-slow',
      async set() {
        entered();
        await gate;
      },
    };
    const a = createAwsRotationRunner({ store, logger: false, holder: 'runner-a' });
    const b = createAwsRotationRunner({ store, logger: false, holder: 'runner-b' });
    const running = a.run('SESSION_KEY', slow);
    await inSet;
    const busy = await b.run('SESSION_KEY', randomSecret());
    assert.deepEqual({ outcome: busy.outcome, heldBy: busy.heldBy, stage: busy.stage }, { outcome: 'busy', heldBy: 'runner-a', stage: 'set' });
    assert.ok((busy.retryAt ?? 0) > Date.now());
    release();
    assert.equal((await running).outcome, 'finished');
    assert.equal(currentValue('SESSION_KEY'), 'fake-session-slow');

    // Both create before either claims AWSPENDING: the label's compare-and-swap picks one.
    let arrived = 0;
    let both: () => void = () => undefined;
    const bothCreated = new Promise<void>((resolve) => {
      both = resolve;
    });
    const racing = (value: string): Rotator => ({
      kind: 'random-secret',
      async create() {
        arrived += 1;
        if (arrived === 2) both();
        await bothCreated;
        return value;
      },
    });
    const results = await Promise.all([a.run('SESSION_KEY', racing('fake-session-a')), b.run('SESSION_KEY', racing('fake-session-b'))]);
    const outcomes = results.map((r) => r.outcome).sort();
    assert.deepEqual(outcomes, ['busy', 'finished']);
    const winner = results[0]?.outcome === 'finished' ? 'fake-session-a' : 'fake-session-b';
    assert.equal(currentValue('SESSION_KEY'), winner);
    const labels = stages('SESSION_KEY');
    assert.equal(labels.filter((l) => l.includes('AWSCURRENT')).length, 1);
    assert.ok(!labels.some((l) => l.includes('AWSPENDING') || l.includes(AWS_CLAIM_STAGE)), JSON.stringify(labels));
  });

  it('abandon removes AWSPENDING and the record; a foreign AWSPENDING is busy until abandoned; a write during the rotation drops it', async () => {
    seed(server, 'PARTNER_KEY', 'fake-partner-v1');
    const runner = createAwsRotationRunner({ store, logger: false });
    const failing: Rotator = {
      kind: 'hook',
      create: async () => 'fake-partner-v2',
      async test() {
        throw new Error('provider refused the key');
      },
    };
    const failed = await runner.run('PARTNER_KEY', failing);
    assert.equal(failed.outcome, 'failed');
    // AWSPENDING removed by hand under the record: the rotation is not resumed onto a version nobody marks pending.
    server.direct('UpdateSecretVersionStage', { SecretId: 'PARTNER_KEY', VersionStage: 'AWSPENDING', RemoveFromVersionId: failed.rotationId });
    const orphaned = await runner.run('PARTNER_KEY', failing);
    assert.deepEqual({ outcome: orphaned.outcome, code: orphaned.error?.code }, { outcome: 'failed', code: 'KS_ERR_ROTATION_REFUSED' });
    assert.match(orphaned.error?.message ?? '', /no longer holds AWSPENDING.*--abandon/);
    server.direct('UpdateSecretVersionStage', { SecretId: 'PARTNER_KEY', VersionStage: 'AWSPENDING', MoveToVersionId: failed.rotationId });
    const dropped = await runner.abandon('PARTNER_KEY');
    assert.deepEqual({ id: dropped?.id, stage: dropped?.stage }, { id: failed.rotationId, stage: 'test' });
    assert.deepEqual(stages('PARTNER_KEY'), [['AWSCURRENT'], []]);
    assert.deepEqual(tags('PARTNER_KEY'), []);
    assert.equal(await runner.abandon('PARTNER_KEY'), undefined);

    // A record another tool wrote: a clear KS_ERR_STORE_CORRUPT naming the secret, and abandon clears it.
    server.direct('TagResource', { SecretId: 'PARTNER_KEY', Tags: [{ Key: 'keyshift:rotation', Value: 'written by hand' }] });
    await assert.rejects(runner.run('PARTNER_KEY', randomSecret()), (e: unknown) => e instanceof KeyshiftError && e.code === 'KS_ERR_STORE_CORRUPT' && /PARTNER_KEY/.test(e.message));
    assert.equal((await runner.abandon('PARTNER_KEY'))?.rotator, 'unknown');
    assert.deepEqual(tags('PARTNER_KEY'), []);

    // A rotation Lambda's pending version: not keyshift's to resume.
    server.direct('PutSecretValue', { SecretId: 'PARTNER_KEY', SecretString: 'fake-lambda-pending', VersionStages: ['AWSPENDING'] });
    const busy = await runner.run('PARTNER_KEY', randomSecret());
    assert.equal(busy.outcome, 'busy');
    assert.match(busy.heldBy ?? '', /not a keyshift rotation/);
    assert.equal((await runner.status('PARTNER_KEY')).foreignPending?.version, 3);
    assert.equal((await runner.abandon('PARTNER_KEY'))?.rotator, 'unknown');
    assert.equal(currentValue('PARTNER_KEY'), 'fake-partner-v1');

    // Someone puts a new AWSCURRENT while the rotation runs: its finish is refused by AWS and the rotation dropped.
    const overtaken: Rotator = {
      kind: 'hook',
      create: async () => 'fake-partner-rotated',
      async test() {
        server.direct('PutSecretValue', { SecretId: 'PARTNER_KEY', SecretString: 'fake-partner-by-hand' });
      },
    };
    const lost = await runner.run('PARTNER_KEY', overtaken);
    assert.deepEqual({ outcome: lost.outcome, stage: lost.stage, code: lost.error?.code }, { outcome: 'failed', stage: 'finish', code: 'KS_ERR_CONFLICT' });
    assert.equal(currentValue('PARTNER_KEY'), 'fake-partner-by-hand');
    assert.equal((await runner.status('PARTNER_KEY')).rotation, null);
    assert.ok(!stages('PARTNER_KEY').some((l) => l.includes('AWSPENDING')));
  });
});
