/**
 * PGP_BROADCAST_v1: Telegram broadcasts.
 * JWT_SECRET_KEY is hot-reloaded through the HMAC keyring only (rotation: 'keyring'), as the policy requires of a signing key.
 */
import { defineSecrets } from 'keyshift';
import {
  BROADCAST_AUTO_INTERVAL,
  BROADCAST_MANUAL_INTERVAL,
  JWT_SECRET_KEY,
  TELEGRAM_BOT_API_TOKEN,
  TELEGRAM_BOT_USERNAME,
} from './secrets.ts';
import { STATIC_DATABASE_CREDENTIALS } from './static-database-credentials.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_BROADCAST_v1', role: 'Telegram broadcasts' };

export const secrets = defineSecrets({
  // hot-reloadable
  BROADCAST_AUTO_INTERVAL,
  BROADCAST_MANUAL_INTERVAL,
  TELEGRAM_BOT_API_TOKEN,
  TELEGRAM_BOT_USERNAME,
  JWT_SECRET_KEY,
  // static: read once at ready()
  ...STATIC_DATABASE_CREDENTIALS,
});
