/** PGP_SPLIT3_v1: ChangeNow swaps. */
import { defineSecrets } from 'keyshift';
import { CHANGENOW_API_KEY, SUCCESS_URL_SIGNING_KEY } from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_SPLIT3_v1', role: 'ChangeNow swaps' };

export const secrets = defineSecrets({
  // hot-reloadable
  CHANGENOW_API_KEY,
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
});
