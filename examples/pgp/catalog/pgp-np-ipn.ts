/** PGP_NP_IPN_v1: NowPayments webhook. */
import { defineSecrets } from 'keyshift';
import { NOWPAYMENTS_API_KEY, NOWPAYMENTS_IPN_SECRET } from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_NP_IPN_v1', role: 'NowPayments webhook' };

export const secrets = defineSecrets({
  // hot-reloadable
  NOWPAYMENTS_API_KEY,
  NOWPAYMENTS_IPN_SECRET,
});
