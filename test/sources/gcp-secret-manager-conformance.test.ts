/**
 * The shared source contract, for gcpSecretManager with the real client against the
 * emulator, and watch() fed end to end: emulator push -> HTTP -> push handler -> source.
 */
import { gcpPubSubPushHandler } from '../../src/sources/gcp-pubsub-push.ts';
import { gcpSecretManager } from '../../src/sources/gcp-secret-manager.ts';
import { PROJECT, startFixture } from '../emulator/_fixture.ts';
import { startPushServer } from '../emulator/_push-server.ts';
import { testSource } from './_conformance.ts';

const TOKEN = 'conformance-push-token-0123456789';

testSource('gcp-secret-manager (emulator, push)', {
  capabilities: { write: true, watch: true, sizeCap: true, ordered: true },
  async setup() {
    const f = await startFixture();
    const source = gcpSecretManager({ project: PROJECT, clientOptions: f.emulator.clientOptions() });
    const push = await startPushServer(gcpPubSubPushHandler({ source, token: TOKEN }));
    f.emulator.addPushSubscription({ url: push.url, queryToken: TOKEN });
    const created = new Set<string>();
    return {
      source,
      async put(name, value) {
        if (!created.has(name)) {
          await f.client.createSecret({ parent: `projects/${PROJECT}`, secretId: name, secret: {} });
          created.add(name);
        }
        await f.client.addSecretVersion({ parent: f.secret(name), payload: { data: Buffer.from(value) } });
      },
      async teardown() {
        await f.close();
        await push.close();
      },
    };
  },
});
