// createKeyshift()'s options, checked before anything starts: a typo or a wrong type (from
// JavaScript, a config file, or past the types) is a KS_ERR_INVALID_DECLARATION naming
// the option, never a default taken silently or a NaN timer.
import type { EveryKey } from '../_every-key.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { BackoffOptions } from './schedule.ts';

const BACKOFF_FIELDS: EveryKey<BackoffOptions> = { initialMs: true, factor: true, maxMs: true, jitter: true };
const BACKOFF = Object.keys(BACKOFF_FIELDS) as Array<keyof BackoffOptions>;

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `createKeyshift(): ${message}`);
}

function only(where: string, value: object, known: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    throw invalid(`unknown ${where} ${unknown.map((k) => JSON.stringify(k)).join(', ')} (the ${where}s are ${known.join(', ')})`);
  }
}

type Rule = 'positive' | 'non-negative' | 'integer' | 'fraction' | 'factor';
const WANTS: Record<Rule, string> = {
  positive: 'a positive number',
  'non-negative': 'a number of 0 or more',
  integer: 'a positive whole number',
  fraction: 'a number from 0 to less than 1',
  factor: 'a number of 1 or more',
};

function number(name: string, value: unknown, rule: Rule): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule === 'positive' ? value > 0 : rule === 'non-negative' ? value >= 0 : rule === 'integer' ? Number.isInteger(value) && value > 0 : rule === 'fraction' ? value >= 0 && value < 1 : value >= 1);
  if (!ok) throw invalid(`${name} must be ${WANTS[rule]}`);
}

function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}

/**
 * Throws a KeyshiftError naming the first option that is unknown or of the wrong type.
 * `known` is every option's name (the caller lists them as an EveryKey of its options type).
 */
export function checkOptions(options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || typeof (options as { source?: { get?: unknown } }).source?.get !== 'function') {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'createKeyshift() needs options.source, such as localStore() or env()');
  }
  only('option', options, known);
  const o = options as Record<string, unknown>;
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) throw invalid('name must be a non-empty string');
  if (o.logger !== undefined && o.logger !== false && !hasMethods(o.logger, ['info', 'warn', 'error'])) {
    throw invalid('logger must be a pino-compatible logger (info, warn, error) or false');
  }
  if (o.policy !== undefined && !Array.isArray(o.policy)) throw invalid('policy must be an array of rules, such as DEFAULT_POLICY');
  number('fetchTimeoutMs', o.fetchTimeoutMs, 'positive');
  number('startupTimeoutMs', o.startupTimeoutMs, 'positive');
  number('startupConcurrency', o.startupConcurrency, 'integer');
  number('minStartupFailureMs', o.minStartupFailureMs, 'non-negative');
  number('ttlJitter', o.ttlJitter, 'fraction');
  number('minRefreshIntervalMs', o.minRefreshIntervalMs, 'non-negative');
  number('maxValueBytes', o.maxValueBytes, 'integer');
  if (o.backoff !== undefined) {
    if (typeof o.backoff !== 'object' || o.backoff === null) throw invalid(`backoff must be an object of ${BACKOFF.join(', ')}`);
    only('backoff field', o.backoff, BACKOFF);
    const b = o.backoff as Record<keyof BackoffOptions, unknown>;
    number('backoff.initialMs', b.initialMs, 'positive');
    number('backoff.factor', b.factor, 'factor');
    number('backoff.maxMs', b.maxMs, 'positive');
    number('backoff.jitter', b.jitter, 'fraction');
  }
  if (o.clock !== undefined && !hasMethods(o.clock, ['now', 'wallNow', 'setTimeout', 'clearTimeout'])) {
    throw invalid('clock must have now(), wallNow(), setTimeout() and clearTimeout(), such as createFakeClock() from keyshift/testing');
  }
  if (o.random !== undefined && typeof o.random !== 'function') throw invalid('random must be a function returning a number in [0, 1)');
  if (o.notifications !== undefined && !hasMethods(o.notifications, ['ttlMs', 'onChange'])) {
    throw invalid("notifications must be a pull source's health (ttlMs(), onChange())");
  }
  if (o.freshness !== undefined && o.freshness !== 'timers' && o.freshness !== 'requests') {
    throw invalid("freshness must be 'timers' or 'requests'");
  }
  if (o.instance !== undefined && typeof (o.instance as { instanceId?: unknown } | null)?.instanceId !== 'string') {
    throw invalid('instance must be an identity with an instanceId, such as resolveInstanceIdentity() returns');
  }
  if (o.instanceId !== undefined && (typeof o.instanceId !== 'string' || o.instanceId === '')) throw invalid('instanceId must be a non-empty string');
}
