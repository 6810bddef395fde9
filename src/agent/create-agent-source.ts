import { ErrorCodes, KeyshiftError } from '../errors.ts';
import { loadOptionalPeer } from '../_optional-peer.ts';
import { env } from '../sources/env.ts';
import { fileSource } from '../sources/file.ts';
import { localStore } from '../sources/local-store.ts';
import type { Source } from '../types.ts';
import type { AgentSourceConfig } from './source-config.ts';

export interface AgentSource {
  readonly source: Source;
  /** Stops the notification listener, if any (the manager closes the source itself). */
  close(): Promise<void>;
}

/**
 * Builds the agent's source with keyshift's own factories: the local store, env, files,
 * Secret Manager (with its Pub/Sub notification when a subscription is given) or AWS
 * Secrets Manager. Cloud clients are optional peers, imported here only when chosen.
 * `apiEndpoint` (`host:port`) points Secret Manager at a plaintext endpoint: the emulator.
 */
export async function createAgentSource(config: AgentSourceConfig, processEnv: NodeJS.ProcessEnv): Promise<AgentSource> {
  const none = async (): Promise<void> => {};
  switch (config.kind) {
    case 'local-store':
      return { source: localStore({ dir: config.dir, create: false, env: processEnv }), close: none };
    case 'env':
      return { source: env({ env: processEnv, prefix: config.prefix }), close: none };
    case 'file':
      return { source: fileSource({ dir: config.dir }), close: none };
    case 'aws-secrets-manager': {
      const { awsSecretsManager } = await import('../sources/aws-secrets-manager.ts');
      const clientConfig = { ...(config.region ? { region: config.region } : {}), ...(config.endpoint ? { endpoint: config.endpoint } : {}) };
      return { source: awsSecretsManager({ clientConfig }), close: none };
    }
    case 'gcp-secret-manager': {
      const { gcpSecretManager } = await import('../sources/gcp-secret-manager.ts');
      let clientOptions = {};
      if (config.apiEndpoint !== undefined) {
        const match = /^([^:]+|\[[^\]]+\]):([0-9]{1,5})$/.exec(config.apiEndpoint);
        if (!match) throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'agent declaration: source: apiEndpoint must be host:port');
        const grpc = await loadOptionalPeer('@grpc/grpc-js', 'an agent source with an apiEndpoint', () => import('@grpc/grpc-js'));
        clientOptions = { apiEndpoint: match[1], port: Number(match[2]), sslCreds: grpc.credentials.createInsecure() };
      }
      const source = gcpSecretManager({ ...(config.project ? { project: config.project } : {}), clientOptions });
      if (config.subscription === undefined) return { source, close: none };
      const { gcpPubSubPull } = await import('../sources/gcp-pubsub-pull.ts');
      const pull = await gcpPubSubPull({ subscription: config.subscription, source });
      return { source, close: () => pull.close() };
    }
  }
}
