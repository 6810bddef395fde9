/** PGP_INVITE_v1: Telegram invites. */
import { defineSecrets } from 'keyshift';
import {
  PAYMENT_FALLBACK_TOLERANCE,
  PAYMENT_MIN_TOLERANCE,
  SUCCESS_URL_SIGNING_KEY,
  TELEGRAM_BOT_API_TOKEN,
} from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_INVITE_v1', role: 'Telegram invites' };

export const secrets = defineSecrets({
  // hot-reloadable
  TELEGRAM_BOT_API_TOKEN,
  PAYMENT_MIN_TOLERANCE,
  PAYMENT_FALLBACK_TOLERANCE,
  // static: read once at ready()
  SUCCESS_URL_SIGNING_KEY,
});
