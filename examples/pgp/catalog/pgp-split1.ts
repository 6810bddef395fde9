/** PGP_SPLIT1_v1: orchestrator. */
import { defineSecrets } from 'keyshift';
import {
  PGP_HOSTPAY1_URL,
  PGP_HOSTPAY_TRIGGER_QUEUE,
  PGP_SPLIT2_ESTIMATE_QUEUE,
  PGP_SPLIT2_URL,
  PGP_SPLIT3_SWAP_QUEUE,
  PGP_SPLIT3_URL,
  SUCCESS_URL_SIGNING_KEY,
  TPS_HOSTPAY_SIGNING_KEY,
  TP_FLAT_FEE,
} from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_SPLIT1_v1', role: 'orchestrator' };

export const secrets = defineSecrets({
  // hot-reloadable
  TP_FLAT_FEE,
  PGP_HOSTPAY1_URL,
  PGP_SPLIT2_ESTIMATE_QUEUE,
  PGP_SPLIT2_URL,
  PGP_SPLIT3_SWAP_QUEUE,
  PGP_SPLIT3_URL,
  PGP_HOSTPAY_TRIGGER_QUEUE,
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
  TPS_HOSTPAY_SIGNING_KEY,
});
