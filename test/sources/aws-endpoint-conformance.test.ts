/**
 * The loopback endpoint is only worth testing against if the real SDK reads it as
 * it reads AWS: the same exception classes, faults, statuses, request ids, and
 * operations with the same results. These tests pin that.
 */
import './_aws-fixture.ts';
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DecryptionFailure,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  type AwsSecretsManagerServer,
  startAwsSecretsManagerServer,
} from '../../src/testing/aws-secrets-manager-server.ts';
import { clientConfigFor } from './_aws-fixture.ts';

describe('Testing: the loopback AWS Secrets Manager endpoint, read by the real SDK', () => {
  let server: AwsSecretsManagerServer;
  let client: SecretsManagerClient;

  before(async () => {
    server = await startAwsSecretsManagerServer();
    client = new SecretsManagerClient({ ...clientConfigFor(server), maxAttempts: 1 });
  });
  after(async () => {
    client.destroy();
    await server.close();
  });

  it('runs the ten operations, with AWS stage semantics (AWSCURRENT moves push AWSPREVIOUS)', async () => {
    const created = await client.send(new CreateSecretCommand({ Name: 'conf/api', SecretString: 'fake-v1' }));
    assert.match(created.ARN ?? '', /^arn:aws:secretsmanager:us-east-1:123456789012:secret:conf\/api-[\w-]{6}$/);
    const v1 = created.VersionId ?? '';
    const v2 = (await client.send(new PutSecretValueCommand({ SecretId: 'conf/api', SecretString: 'fake-v2' }))).VersionId ?? '';
    await client.send(new TagResourceCommand({ SecretId: 'conf/api', Tags: [{ Key: 'team', Value: 'payments' }, { Key: 'tier', Value: 'gold' }] }));
    await client.send(new UntagResourceCommand({ SecretId: 'conf/api', TagKeys: ['tier', 'absent-key'] }));
    const described = await client.send(new DescribeSecretCommand({ SecretId: created.ARN }));
    assert.deepEqual(described.VersionIdsToStages, { [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    assert.deepEqual(described.Tags, [{ Key: 'team', Value: 'payments' }]);
    assert.ok(described.CreatedDate instanceof Date);
    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: 'conf/api',
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: v1,
        RemoveFromVersionId: v2,
      }),
    );
    const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: 'conf/api' }));
    const stages = Object.fromEntries((listed.Versions ?? []).map((v) => [v.VersionId, v.VersionStages]));
    assert.deepEqual(stages, { [v1]: ['AWSCURRENT'], [v2]: ['AWSPREVIOUS'] });
    const current = await client.send(new GetSecretValueCommand({ SecretId: 'conf/api' }));
    assert.equal(current.SecretString, 'fake-v1');
    const batch = await client.send(new BatchGetSecretValueCommand({ SecretIdList: ['conf/api', 'conf/none'] }));
    assert.equal(batch.SecretValues?.[0]?.VersionId, v1);
    assert.deepEqual(
      batch.Errors?.map((e) => [e.SecretId, e.ErrorCode]),
      [['conf/none', 'ResourceNotFoundException']],
    );
    const secrets = await client.send(new ListSecretsCommand({}));
    assert.ok(
      (secrets.SecretList ?? []).some((s) => s.Name === 'conf/api' && s.ARN === created.ARN),
      'ListSecrets names the secret with its ARN',
    );
    assert.deepEqual(server.calls, {
      GetSecretValue: 1,
      BatchGetSecretValue: 1,
      PutSecretValue: 1,
      DescribeSecret: 1,
      CreateSecret: 1,
      UpdateSecretVersionStage: 1,
      ListSecretVersionIds: 1,
      ListSecrets: 1,
      TagResource: 1,
      UntagResource: 1,
    });
  });

  it('keeps AWS semantics a staged rotation relies on: token idempotency, RemoveFromVersionId as a compare-and-swap', async () => {
    const v1 = (await client.send(new CreateSecretCommand({ Name: 'conf/stages', SecretString: 'fake-s1' }))).VersionId ?? '';
    const token = '11111111-2222-4333-8444-555555555555';
    const pending = { SecretId: 'conf/stages', ClientRequestToken: token, SecretString: 'fake-s2', VersionStages: ['AWSPENDING'] };
    const first = await client.send(new PutSecretValueCommand(pending));
    const again = await client.send(new PutSecretValueCommand(pending));
    assert.equal(first.VersionId, token);
    assert.equal(again.VersionId, token, 'the same token and value: the retry is ignored');
    assert.equal(Object.keys((await client.send(new DescribeSecretCommand({ SecretId: 'conf/stages' }))).VersionIdsToStages ?? {}).length, 2);
    await assert.rejects(client.send(new PutSecretValueCommand({ ...pending, SecretString: 'fake-other' })), ResourceExistsException);
    // RemoveFromVersionId must name the version holding the label; a label held elsewhere needs it.
    await assert.rejects(
      client.send(new UpdateSecretVersionStageCommand({ SecretId: 'conf/stages', VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: token })),
      InvalidParameterException,
    );
    await assert.rejects(client.send(new UpdateSecretVersionStageCommand({ SecretId: 'conf/stages', VersionStage: 'AWSCURRENT', MoveToVersionId: token })), InvalidParameterException);
    await assert.rejects(client.send(new UpdateSecretVersionStageCommand({ SecretId: 'conf/stages', VersionStage: 'AWSCURRENT', RemoveFromVersionId: v1 })), InvalidParameterException);
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: 'conf/stages', VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: v1 }));
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: 'conf/stages', VersionStage: 'AWSPENDING', RemoveFromVersionId: token }));
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'conf/stages' }));
    assert.deepEqual(described.VersionIdsToStages, { [v1]: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    assert.equal(described.Tags, undefined, 'no Tags member for a secret without tags');
  });

  it('round-trips SecretBinary as base64 on the wire and bytes in the SDK', async () => {
    const bytes = new Uint8Array([0, 255, 128, 7]);
    await client.send(new CreateSecretCommand({ Name: 'conf/bin', SecretBinary: bytes }));
    const got = await client.send(new GetSecretValueCommand({ SecretId: 'conf/bin' }));
    assert.deepEqual([...(got.SecretBinary ?? [])], [...bytes]);
    assert.equal(got.SecretString, undefined);
  });

  const modeled = [
    ['ResourceNotFoundException', ResourceNotFoundException, 400, 'client'],
    ['DecryptionFailure', DecryptionFailure, 400, 'client'],
    ['InvalidRequestException', InvalidRequestException, 400, 'client'],
    ['InvalidParameterException', InvalidParameterException, 400, 'client'],
    ['InternalServiceError', InternalServiceError, 500, 'server'],
  ] as const;
  for (const [type, ErrorClass, status, fault] of modeled) {
    it(`answers ${type} so the SDK throws its ${type} class (HTTP ${status}, ${fault} fault)`, async () => {
      server.inject({ error: type, message: `fake ${type} message`, times: 1 });
      const error = await client.send(new GetSecretValueCommand({ SecretId: 'conf/api' })).catch((e: unknown) => e);
      assert.ok(error instanceof ErrorClass, `got ${String(error)}`);
      assert.equal(error.name, type);
      assert.equal(error.message, `fake ${type} message`);
      assert.equal(error.$fault, fault);
      assert.equal(error.$metadata.httpStatusCode, status);
      assert.match(error.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    });
  }

  for (const type of ['AccessDeniedException', 'ThrottlingException', 'UnrecognizedClientException']) {
    it(`answers the unmodeled ${type} so the SDK names it on its service exception`, async () => {
      server.inject({ error: type, times: 1 });
      const error = await client.send(new GetSecretValueCommand({ SecretId: 'conf/api' })).catch((e: unknown) => e);
      assert.ok(error instanceof SecretsManagerServiceException);
      assert.equal(error.name, type);
      assert.equal(error.$fault, 'client');
    });
  }

  it('answers the real errors of the operations themselves (missing secret, existing name)', async () => {
    await assert.rejects(client.send(new GetSecretValueCommand({ SecretId: 'conf/none' })), ResourceNotFoundException);
    await assert.rejects(
      client.send(new GetSecretValueCommand({ SecretId: 'conf/api', VersionStage: 'AWSPENDING' })),
      ResourceNotFoundException,
    );
    await assert.rejects(client.send(new CreateSecretCommand({ Name: 'conf/api', SecretString: 'x' })), ResourceExistsException);
  });

  it('is recognised as throttling by the SDK retry strategy (a default client retries it)', async () => {
    const retrying = new SecretsManagerClient({ ...clientConfigFor(server), maxAttempts: 2 });
    server.inject({ error: 'ThrottlingException', times: 1 });
    const before = server.calls.GetSecretValue;
    const got = await retrying.send(new GetSecretValueCommand({ SecretId: 'conf/api' }));
    assert.equal(got.$metadata.attempts, 2);
    assert.equal(server.calls.GetSecretValue - before, 2);
    retrying.destroy();
  });

  it('refuses unsigned requests and unknown targets with the JSON 1.1 error body', async () => {
    const unsigned = await fetch(server.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
      body: '{"SecretId":"conf/api"}',
    });
    assert.equal(unsigned.status, 400);
    assert.equal(unsigned.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.deepEqual(await unsigned.json(), {
      __type: 'MissingAuthenticationTokenException',
      Message: 'Missing Authentication Token',
    });
    const unknown = await fetch(server.endpoint, { method: 'POST', headers: { 'x-amz-target': 'secretsmanager.DeleteSecret' } });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as { __type: string }).__type, 'UnknownOperationException');
  });
});
