/** PGP_ACCUMULATOR_v1: payment accumulation. */
import { defineSecrets } from 'keyshift';
import {
  HOST_WALLET_USDT_ADDRESS,
  PGP_HOSTPAY1_URL,
  PGP_HOSTPAY_TRIGGER_QUEUE,
  PGP_SPLIT2_ESTIMATE_QUEUE,
  PGP_SPLIT2_URL,
  PGP_SPLIT3_SWAP_QUEUE,
  PGP_SPLIT3_URL,
  SUCCESS_URL_SIGNING_KEY,
  TP_FLAT_FEE,
} from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_ACCUMULATOR_v1', role: 'payment accumulation' };

export const secrets = defineSecrets({
  // hot-reloadable
  TP_FLAT_FEE,
  PGP_SPLIT2_ESTIMATE_QUEUE,
  PGP_SPLIT2_URL,
  PGP_SPLIT3_SWAP_QUEUE,
  PGP_SPLIT3_URL,
  PGP_HOSTPAY_TRIGGER_QUEUE,
  PGP_HOSTPAY1_URL,
  HOST_WALLET_USDT_ADDRESS,
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
});
