import { type InstanceIdentity, instanceIdentityFromEnv } from '../core/instance-identity.ts';
import { readMetadata } from './metadata.ts';

/**
 * This instance's identity on Google Cloud: K_SERVICE, K_REVISION, K_CONFIGURATION, and the
 * metadata server's `instance/id` (unique per Cloud Run instance); `given` fields win. Off
 * Google Cloud the instance id is the host name and pid.
 */
export async function resolveInstanceIdentity(given: Partial<InstanceIdentity> = {}, timeoutMs?: number): Promise<InstanceIdentity> {
  const instanceId = given.instanceId ?? (await readMetadata('instance/id', timeoutMs));
  return instanceIdentityFromEnv({ ...given, ...(instanceId === undefined ? {} : { instanceId }) });
}
