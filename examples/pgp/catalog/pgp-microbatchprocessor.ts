/** PGP_MICROBATCHPROCESSOR_v1: micro-batch conversion. */
import { defineSecrets } from 'keyshift';
import {
  CHANGENOW_API_KEY,
  HOST_WALLET_USDT_ADDRESS,
  MICRO_BATCH_THRESHOLD_USD,
  PGP_HOSTPAY1_BATCH_QUEUE,
  PGP_HOSTPAY1_URL,
  SUCCESS_URL_SIGNING_KEY,
} from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_MICROBATCHPROCESSOR_v1', role: 'micro-batch conversion' };

export const secrets = defineSecrets({
  // hot-reloadable
  CHANGENOW_API_KEY,
  PGP_HOSTPAY1_BATCH_QUEUE,
  PGP_HOSTPAY1_URL,
  HOST_WALLET_USDT_ADDRESS,
  MICRO_BATCH_THRESHOLD_USD,
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
});
