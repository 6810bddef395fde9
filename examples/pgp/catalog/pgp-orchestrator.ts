/**
 * PGP_ORCHESTRATOR_v1: security-critical.
 * Security-critical: the seeds left it for later. It holds one static signing key and nothing dynamic.
 */
import { defineSecrets } from 'keyshift';
import { SUCCESS_URL_SIGNING_KEY } from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_ORCHESTRATOR_v1', role: 'security-critical' };

export const secrets = defineSecrets({
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
});
