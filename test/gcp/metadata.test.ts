/**
 * Project id and instance identity as Cloud Run gives them: no GOOGLE_CLOUD_PROJECT, a
 * metadata server (here a local stand-in on port 0, found through GCE_METADATA_HOST as
 * Google's own libraries find it), and K_SERVICE / K_REVISION / K_CONFIGURATION.
 */
import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { instanceIdentityFromEnv } from '../../src/core/instance-identity.ts';
import { ErrorCodes } from '../../src/errors.ts';
import { resolveInstanceIdentity } from '../../src/gcp/instance-identity.ts';
import { readMetadata, resolveProjectId } from '../../src/gcp/metadata.ts';
import { createKeyshift, defineSecrets, t } from '../../src/index.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { type Fixture, PROJECT, seed, startFixture } from '../emulator/_fixture.ts';

const METADATA: Record<string, string> = {
  '/computeMetadata/v1/project/project-id': PROJECT,
  '/computeMetadata/v1/instance/id': '00bf4bf02d4e5a8b1c',
};

function standIn(flavor = 'Google'): Promise<{ server: Server; host: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const value = METADATA[req.url ?? ''];
    if (req.headers['metadata-flavor'] !== 'Google' || value === undefined) {
      res.writeHead(req.headers['metadata-flavor'] !== 'Google' ? 403 : 404).end();
      return;
    }
    res.writeHead(200, { 'metadata-flavor': flavor, 'content-type': 'application/text' }).end(value);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as AddressInfo).port}`, requests })),
  );
}

describe('The metadata server: project id and instance identity on Cloud Run', () => {
  let meta: Awaited<ReturnType<typeof standIn>>;
  let f: Fixture;
  const saved = { ...process.env };

  before(async () => {
    meta = await standIn();
    f = await startFixture();
    delete process.env.GOOGLE_CLOUD_PROJECT;
    delete process.env.GCLOUD_PROJECT;
    process.env.GCE_METADATA_HOST = meta.host;
  });

  after(async () => {
    for (const key of ['GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT', 'GCE_METADATA_HOST', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await f.close();
    await new Promise((resolve) => meta.server.close(resolve));
  });

  it('the project comes from the option, then the variables, then the metadata server', async () => {
    assert.equal(await resolveProjectId(), PROJECT);
    assert.equal(await resolveProjectId('given-project'), 'given-project');
    process.env.GOOGLE_CLOUD_PROJECT = 'from-env';
    try {
      assert.equal(await resolveProjectId(), 'from-env');
    } finally {
      delete process.env.GOOGLE_CLOUD_PROJECT;
    }
  });

  it('gcpSecretManager with no project reads from the project the metadata server names', async () => {
    await seed(f, 'META_KEY', 'fake-from-metadata-project');
    const source = gcpSecretManager({ clientOptions: f.emulator.clientOptions() });
    const ks = createKeyshift(defineSecrets({ META_KEY: { type: t.string() } }), { source, logger: false });
    await ks.ready();
    assert.equal(ks.get('META_KEY'), 'fake-from-metadata-project');
    assert.ok(meta.requests.includes('/computeMetadata/v1/project/project-id'));
    await ks.close();
  });

  it('with neither a project nor a metadata server, ready() fails with a clear error; a later ready() asks the metadata server again', async () => {
    // META_KEY was seeded by the test above
    process.env.GCE_METADATA_HOST = '127.0.0.1:9';
    const source = gcpSecretManager({ clientOptions: f.emulator.clientOptions() });
    const ks = createKeyshift(defineSecrets({ META_KEY: { type: t.string() } }), { source, logger: false });
    try {
      await assert.rejects(ks.ready(), { code: ErrorCodes.INVALID_DECLARATION, message: /no project: set the project option or GOOGLE_CLOUD_PROJECT/ });
    } finally {
      process.env.GCE_METADATA_HOST = meta.host;
    }
    // the metadata server answers now: the source asks it again instead of keeping the failed lookup
    await ks.ready();
    assert.equal(ks.get('META_KEY'), 'fake-from-metadata-project');
    await ks.close();
  });

  it('a server that does not answer as the metadata server is not trusted', async () => {
    const impostor = await standIn('NotGoogle');
    process.env.GCE_METADATA_HOST = impostor.host;
    try {
      assert.equal(await readMetadata('project/project-id'), undefined);
    } finally {
      process.env.GCE_METADATA_HOST = meta.host;
      await new Promise((resolve) => impostor.server.close(resolve));
    }
  });

  it('the identity: K_SERVICE, K_REVISION, K_CONFIGURATION and the metadata instance id; given fields win; status shows it', async () => {
    process.env.K_SERVICE = 'pgp-split2';
    process.env.K_REVISION = 'pgp-split2-00042-abc';
    process.env.K_CONFIGURATION = 'pgp-split2';
    const identity = await resolveInstanceIdentity();
    assert.deepEqual(identity, { service: 'pgp-split2', revision: 'pgp-split2-00042-abc', configuration: 'pgp-split2', instanceId: '00bf4bf02d4e5a8b1c' });
    assert.equal((await resolveInstanceIdentity({ instanceId: 'mine' })).instanceId, 'mine');
    delete process.env.K_SERVICE;
    assert.match(instanceIdentityFromEnv({}, {}).instanceId, /-\d+$/, 'off Cloud Run: host name and pid');
    const ks = createKeyshift(defineSecrets({ A: { type: t.string() } }), {
      source: gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() }),
      instance: identity,
      logger: false,
    });
    assert.deepEqual(ks.status().instance, identity);
    await ks.close();
  });
});
