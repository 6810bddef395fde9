// The root of the package: what an application needs to declare, read and watch its
// secrets. Each part's own options and defaults live with its subpath
// (keyshift/admin, keyshift/rotation, keyshift/sources/...). The whole surface is
// recorded in etc/public-api.txt (test/public-api.test.ts).
export {
  DEFAULT_BACKOFF_FACTOR,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_JITTER,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_MIN_REFRESH_INTERVAL_MS,
  DEFAULT_STARTUP_CONCURRENCY,
  DEFAULT_STARTUP_TIMEOUT_MS,
  DEFAULT_TTL_JITTER,
  DEFAULT_TTL_MS_BY_CATEGORY,
  THROTTLED_MIN_RETRY_MS,
} from './constants.ts';
export * from './core/index.ts';
export { type ErrorCode, ErrorCodes, isTransient, KeyshiftError, type KeyshiftErrorOptions, PolicyError, StaleSecretError } from './errors.ts';
export type * from './types.ts';
