/** The shared source contract, for awsSecretsManager with the real SDK against the loopback endpoint. */
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsSecretsManager } from '../../src/sources/aws-secrets-manager.ts';
import { startAwsSecretsManagerServer } from '../../src/testing/aws-secrets-manager-server.ts';
import { clientConfigFor } from './_aws-fixture.ts';
import { testSource } from './_conformance.ts';

testSource('aws-secrets-manager (loopback endpoint, real SDK)', {
  capabilities: { write: true, watch: false, sizeCap: true, ordered: true },
  async setup() {
    const server = await startAwsSecretsManagerServer();
    const writer = new SecretsManagerClient({ ...clientConfigFor(server), maxAttempts: 1 });
    const created = new Set<string>();
    return {
      source: awsSecretsManager({ clientConfig: clientConfigFor(server) }),
      async put(name, value) {
        if (created.has(name)) await writer.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
        else await writer.send(new CreateSecretCommand({ Name: name, SecretString: value }));
        created.add(name);
      },
      async teardown() {
        writer.destroy();
        await server.close();
      },
    };
  },
});
