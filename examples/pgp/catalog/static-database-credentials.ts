import {
  CLOUD_SQL_CONNECTION_NAME,
  DATABASE_NAME_SECRET,
  DATABASE_PASSWORD_SECRET,
  DATABASE_USER_SECRET,
} from './secrets.ts';

/**
 * The database credentials as NOTIFICATIONS and BROADCAST hold them: read once at
 * startup, like their connection pool (PGP_WEBAPI_v1 reads the name and user dynamically).
 */
export const STATIC_DATABASE_CREDENTIALS = {
  CLOUD_SQL_CONNECTION_NAME: { ...CLOUD_SQL_CONNECTION_NAME, static: true },
  DATABASE_NAME_SECRET: { ...DATABASE_NAME_SECRET, static: true },
  DATABASE_USER_SECRET: { ...DATABASE_USER_SECRET, static: true },
  DATABASE_PASSWORD_SECRET,
} as const;
