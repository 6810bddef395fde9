/** PGP_NOTIFICATIONS_v1: Telegram notifications. */
import { defineSecrets } from 'keyshift';
import { TELEGRAM_BOT_API_TOKEN } from './secrets.ts';
import { STATIC_DATABASE_CREDENTIALS } from './static-database-credentials.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_NOTIFICATIONS_v1', role: 'Telegram notifications' };

export const secrets = defineSecrets({
  // hot-reloadable
  TELEGRAM_BOT_API_TOKEN,
  // static: read once at ready()
  ...STATIC_DATABASE_CREDENTIALS,
});
