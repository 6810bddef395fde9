// createAdminHandler()'s options, checked before anything is built: a typo (`basepath`,
// `rateLimit.max`) or a wrong type is a KS_ERR_INVALID_DECLARATION naming the option,
// never a default taken silently (an admin surface on another path, no rate limit).
import type { EveryKey } from '../_every-key.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { AlertOptions } from './alert-rules.ts';
import type { RateLimitOptions } from './rate-limit.ts';

const RATE_LIMIT_FIELDS: EveryKey<RateLimitOptions> = { maxFailures: true, windowMs: true, maxClients: true };
const RATE_LIMIT = Object.keys(RATE_LIMIT_FIELDS);
const ALERT_FIELDS: EveryKey<AlertOptions> = { fetchLatencyMs: true, failures: true, failureWindowMs: true, webhook: true, logger: true, onAlert: true };
const ALERTS = Object.keys(ALERT_FIELDS);

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `createAdminHandler(): ${message}`);
}

function only(where: string, value: object, known: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) throw invalid(`unknown ${where} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (the ${where}s are ${known.join(', ')})`);
}

function positive(name: string, value: unknown): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isInteger(value) && value > 0)) throw invalid(`${name} must be a positive whole number`);
}

function isManager(value: unknown): boolean {
  const m = value as Record<string, unknown> | null;
  return typeof m === 'object' && m !== null && typeof m.on === 'function' && typeof m.status === 'function' && typeof m.refresh === 'function';
}

/**
 * Throws a KeyshiftError naming the first option that is unknown or of the wrong kind.
 * `known` is every option's name (the caller lists them as an EveryKey of its options type).
 */
export function checkAdminOptions(options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null) throw invalid('needs options: { managers, token }');
  only('option', options, known);
  const o = options as Record<string, unknown>;
  if (![o.managers].flat().every(isManager)) throw invalid('managers must be a manager from createKeyshift(), or an array of them');
  if (o.auditLog !== undefined && typeof o.auditLog !== 'function') throw invalid('auditLog must be a function (record) => void');
  if (o.metrics !== undefined && typeof o.metrics !== 'boolean') throw invalid('metrics must be true or false');
  positive('maxBodyBytes', o.maxBodyBytes);
  if (o.fingerprintKey !== undefined && !(o.fingerprintKey instanceof Uint8Array)) throw invalid('fingerprintKey must be a Uint8Array');
  if (o.rateLimit !== undefined) {
    if (typeof o.rateLimit !== 'object' || o.rateLimit === null) throw invalid(`rateLimit must be an object of ${RATE_LIMIT.join(', ')}`);
    only('rateLimit field', o.rateLimit, RATE_LIMIT);
    for (const field of RATE_LIMIT) positive(`rateLimit.${field}`, (o.rateLimit as Record<string, unknown>)[field]);
  }
  if (o.alerts !== undefined) {
    if (typeof o.alerts !== 'object' || o.alerts === null) throw invalid(`alerts must be an object of ${ALERTS.join(', ')}`);
    only('alerts field', o.alerts, ALERTS);
  }
}
