/**
 * PGP_WEBAPI_v1: web API.
 * DATABASE_PASSWORD_SECRET is static: the pool needs a restart to use a new one (or keyshift/rotation/pg with rotation: 'pg-pool').
 */
import { defineSecrets } from 'keyshift';
import {
  BASE_URL,
  CLOUD_SQL_CONNECTION_NAME,
  CORS_ORIGIN,
  DATABASE_NAME_SECRET,
  DATABASE_PASSWORD_SECRET,
  DATABASE_USER_SECRET,
  FROM_EMAIL,
  FROM_NAME,
  JWT_SECRET_KEY,
  SENDGRID_API_KEY,
  SIGNUP_SECRET_KEY,
} from './secrets.ts';
import type { ServiceInfo } from './service-info.ts';

export const service: ServiceInfo = { name: 'PGP_WEBAPI_v1', role: 'web API' };

export const secrets = defineSecrets({
  // hot-reloadable
  JWT_SECRET_KEY,
  SIGNUP_SECRET_KEY,
  SENDGRID_API_KEY,
  FROM_EMAIL,
  FROM_NAME,
  CORS_ORIGIN,
  BASE_URL,
  CLOUD_SQL_CONNECTION_NAME,
  DATABASE_NAME_SECRET,
  DATABASE_USER_SECRET,
  // static: read once at ready()
  DATABASE_PASSWORD_SECRET,
});
