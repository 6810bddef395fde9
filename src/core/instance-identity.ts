/**
 * Who this instance is, for status pages and fleet reports: the Cloud Run service,
 * revision and configuration (K_SERVICE, K_REVISION, K_CONFIGURATION) and an instance id
 * (the metadata server's on Cloud Run; see gcp/instance-identity.ts), or given.
 * Value-free: names and ids only.
 */
import { hostname } from 'node:os';

export interface InstanceIdentity {
  /** K_SERVICE on Cloud Run. */
  service?: string;
  /** K_REVISION on Cloud Run. */
  revision?: string;
  /** K_CONFIGURATION on Cloud Run. */
  configuration?: string;
  /** The instance: the metadata server's `instance/id` on Cloud Run, else host name and pid. */
  instanceId: string;
}

const clean = (text: string | undefined, max = 200): string | undefined =>
  text === undefined || text === '' ? undefined : text.replace(/[^\w.:@/-]/g, '_').slice(0, max);

/** The identity from the environment (K_*), with `given` fields taking precedence. No I/O. */
export function instanceIdentityFromEnv(given: Partial<InstanceIdentity> = {}, env: NodeJS.ProcessEnv = process.env): InstanceIdentity {
  const service = clean(given.service ?? env.K_SERVICE);
  const revision = clean(given.revision ?? env.K_REVISION);
  const configuration = clean(given.configuration ?? env.K_CONFIGURATION);
  return {
    ...(service ? { service } : {}),
    ...(revision ? { revision } : {}),
    ...(configuration ? { configuration } : {}),
    instanceId: clean(given.instanceId, 256) ?? `${hostname()}-${process.pid}`,
  };
}
