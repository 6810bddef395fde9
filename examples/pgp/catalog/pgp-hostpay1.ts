/**
 * PGP_HOSTPAY1_v1: security-critical.
 * Security-critical: one static signing key.
 */
import { defineSecrets } from 'keyshift';
import { TPS_HOSTPAY_SIGNING_KEY } from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_HOSTPAY1_v1', role: 'security-critical' };

export const secrets = defineSecrets({
  // static: read once at ready()
  TPS_HOSTPAY_SIGNING_KEY,
});
