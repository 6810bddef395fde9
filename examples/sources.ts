// The README's "one example each" for the sources: every line here typechecks in `npm test`.
import type { Source } from 'keyshift';
import { awsSecretsManager } from 'keyshift/sources/aws-secrets-manager';
import { env } from 'keyshift/sources/env';
import { fallbackChain } from 'keyshift/sources/fallback-chain';
import { fileSource } from 'keyshift/sources/file';
import { gcpSecretManager } from 'keyshift/sources/gcp-secret-manager';
import { localStore } from 'keyshift/sources/local-store';
import { createFakeClock, memorySource } from 'keyshift/testing';

export function everySource(): Source[] {
  return [
    localStore({ dir: '.keyshift/store' }), // embedded default: versioned, AES-256-GCM at rest, cross-process notify
    env({ prefix: 'PGP_' }), // env vars: the weakest place for a secret; fine as a last fallback
    fileSource({ dir: '/var/secrets' }), // a Cloud Run / Kubernetes secret volume, watched (..data swaps included)
    gcpSecretManager({ project: 'pgp-live' }), // projects/pgp-live/secrets/NAME/versions/latest
    awsSecretsManager({ clientConfig: { region: 'us-east-1' } }), // SecretId = NAME, stage AWSCURRENT
    fallbackChain([gcpSecretManager({ project: 'pgp-live' }), env()]), // store first, then env ("fallback" in status)
  ];
}

export function testingKit(): void {
  const clock = createFakeClock();
  const source = memorySource({ values: { API_KEY: 'k1' } });
  source.fail({ code: 'KS_ERR_SOURCE_UNAVAILABLE' }); // the store goes down; reads keep the last-known-good value
  void clock.tick(60_000);
}
