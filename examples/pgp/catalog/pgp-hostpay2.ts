/** PGP_HOSTPAY2_v1: ChangeNow status checker. */
import { defineSecrets } from 'keyshift';
import {
  CHANGENOW_API_KEY,
  PGP_HOSTPAY1_RESPONSE_QUEUE,
  PGP_HOSTPAY1_URL,
  SUCCESS_URL_SIGNING_KEY,
} from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_HOSTPAY2_v1', role: 'ChangeNow status checker' };

export const secrets = defineSecrets({
  // hot-reloadable
  CHANGENOW_API_KEY,
  PGP_HOSTPAY1_RESPONSE_QUEUE,
  PGP_HOSTPAY1_URL,
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
});
