import type { EveryKey } from '../_every-key.ts';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { DEFAULT_TTL_MS_BY_CATEGORY } from '../constants.ts';
import { ErrorCodes, KeyshiftError } from '../errors.ts';
import type { Category, RotationKind, SecretCategory } from '../types.ts';
import type { Codec } from './codecs/codec.ts';
import { type AdoptionPolicy, type ResolvedAdoption, resolveAdoption } from './adoption.ts';
import { assertPolicy, DEFAULT_POLICY, type PolicyRule } from './policy.ts';
import type { Secret } from './redacted.ts';

/** One entry of a service's declaration. */
export interface EntryDeclaration<T = unknown> {
  /** The value's type: `t.string()`, `t.decimal()`, `t.json(schema)`... */
  type: Codec<T>;
  /** Read once at ready() and never refreshed. Default false (dynamic). */
  static?: boolean;
  /** The category: sets the default TTL and secrecy. Default 'other'. */
  category?: Category;
  /** The name in the store, when it differs from the entry name. Default: the entry name. */
  key?: string;
  /** Refresh period. Default: by category (5 min API keys, 1 min URLs and queues). */
  ttlMs?: number;
  /** Serve the last-known-good value at most this long after the last successful fetch. Default: no bound. */
  maxStaleMs?: number;
  /** Past maxStaleMs: keep serving with an alert, or make reads throw StaleSecretError. Default 'serve-stale'. */
  onStale?: 'serve-stale' | 'fail-closed';
  /** The entry may be missing from the store; it then reads as null. Default false. */
  optional?: boolean;
  /** Wrap the value in Secret<T>. Default: true for api-key, webhook-secret, database-credential, signing-key, private-key. */
  secret?: boolean;
  /** An extra Standard Schema validator run on the decoded value. */
  validate?: StandardSchemaV1<T, T>;
  /** Hands the entry to a rotation integration, which the policy may allow for otherwise-static entries. */
  rotation?: RotationKind;
  /** What the entry is for (inventory, status). */
  description?: string;
  /**
   * Keep each value this entry stops serving readable through `overlapping()` for this
   * long after the newer version is applied (a secret a third party switches on its own
   * schedule: webhook signatures). Dynamic entries only. Default: no overlap.
   */
  overlapMs?: number;
  /**
   * The stored text to serve when the store has no value, only while NODE_ENV is
   * `development` or `test` (never in production); decoded and validated like a stored
   * value, and reported with source `dev-default`. Refused on secret entries: a secret's
   * development value belongs in `.env` or the local store, not in the code.
   */
  devDefault?: string;
  /**
   * Canary adoption (docs/adoption.md): a new version is first served by a deterministic
   * slice of the fleet that grows over `bakeMs`, and failures counted against it during
   * the bake halt it. `true` takes the category's defaults. Default: off (a new version is
   * served at once). Refused for database-credential, signing-key, private-key and
   * webhook-secret, where a fleet serving two versions at once is unsafe.
   */
  adoption?: AdoptionPolicy | boolean;
}

/** A service's declaration: entry name → entry. */
export type Declaration = Record<string, EntryDeclaration<unknown>>;

type Wrap<E, T> = E extends { secret: true }
  ? Secret<T>
  : E extends { secret: false }
    ? T
    : E extends { category: SecretCategory }
      ? Secret<T>
      : T;

/** The type a read of entry `E` returns. */
export type ValueOf<E> = E extends { type: Codec<infer T> }
  ? Wrap<E, T> | (E extends { optional: true } ? null : never)
  : never;

export type StaticKeys<D> = { [K in keyof D]: D[K] extends { static: true } ? K : never }[keyof D] & string;
export type DynamicKeys<D> = Exclude<keyof D & string, StaticKeys<D>>;
export type StaticValues<D> = { readonly [K in StaticKeys<D>]: ValueOf<D[K]> };

const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,254}$/;
const CATEGORIES = new Set<string>(Object.keys(DEFAULT_TTL_MS_BY_CATEGORY));
const SECRET_CATEGORIES = new Set<string>(['api-key', 'webhook-secret', 'database-credential', 'signing-key', 'private-key']);

function invalid(entry: string, message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `entry ${entry}: ${message}`, { entry });
}

function checkMs(entry: string, field: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw invalid(entry, `${field} must be a positive number of milliseconds`);
  }
}

/** Every field an entry may have (an EveryKey, so a field added to EntryDeclaration must be listed): anything else is a typo, refused rather than ignored. */
const ENTRY_FIELDS: EveryKey<EntryDeclaration<unknown>> = {
  type: true,
  static: true,
  category: true,
  key: true,
  ttlMs: true,
  maxStaleMs: true,
  onStale: true,
  optional: true,
  secret: true,
  validate: true,
  rotation: true,
  description: true,
  overlapMs: true,
  devDefault: true,
  adoption: true,
};
const FIELDS: ReadonlySet<string> = new Set(Object.keys(ENTRY_FIELDS));
const ROTATIONS: ReadonlySet<string> = new Set<RotationKind>(['keyring', 'pg-pool']);

/** Checks one entry's shape and the policy; throws a KeyshiftError naming the entry and field. */
export function checkEntry(name: string, entry: EntryDeclaration<unknown>, rules: readonly PolicyRule[]): void {
  if (!NAME.test(name)) throw invalid(JSON.stringify(name), 'names are letters, digits, _ and - (at most 255)');
  if (typeof entry !== 'object' || entry === null) throw invalid(name, 'the declaration must be an object');
  const unknown = Object.keys(entry).filter((field) => !FIELDS.has(field));
  if (unknown.length > 0) {
    throw invalid(name, `unknown field ${unknown.map((f) => JSON.stringify(f)).join(', ')} (the fields are ${[...FIELDS].join(', ')})`);
  }
  if (typeof entry.type?.decode !== 'function') throw invalid(name, 'type must be a codec such as t.string()');
  for (const field of ['static', 'optional', 'secret'] as const) {
    if (entry[field] !== undefined && typeof entry[field] !== 'boolean') throw invalid(name, `${field} must be true or false`);
  }
  if (entry.rotation !== undefined && !ROTATIONS.has(entry.rotation)) throw invalid(name, "rotation must be 'keyring' or 'pg-pool'");
  if (entry.validate !== undefined && typeof entry.validate?.['~standard']?.validate !== 'function') {
    throw invalid(name, 'validate must be a Standard Schema validator (zod, valibot, arktype...)');
  }
  if (entry.description !== undefined && typeof entry.description !== 'string') throw invalid(name, 'description must be a string');
  if (entry.category !== undefined && !CATEGORIES.has(entry.category)) {
    throw invalid(name, `unknown category "${entry.category}" (one of ${[...CATEGORIES].join(', ')})`);
  }
  if (entry.key !== undefined && !NAME.test(entry.key)) throw invalid(name, 'key must be a valid store name');
  checkMs(name, 'ttlMs', entry.ttlMs);
  checkMs(name, 'maxStaleMs', entry.maxStaleMs);
  checkMs(name, 'overlapMs', entry.overlapMs);
  if (entry.static && entry.overlapMs !== undefined) throw invalid(name, 'a static entry never changes: overlapMs does not apply');
  if (entry.onStale !== undefined && entry.onStale !== 'serve-stale' && entry.onStale !== 'fail-closed') {
    throw invalid(name, "onStale must be 'serve-stale' or 'fail-closed'");
  }
  if (entry.static && (entry.ttlMs !== undefined || entry.maxStaleMs !== undefined)) {
    throw invalid(name, 'a static entry is read once: ttlMs and maxStaleMs do not apply');
  }
  resolveAdoption(name, entry.category ?? 'other', entry.adoption, entry.static ?? false);
  if (entry.devDefault !== undefined) {
    if (typeof entry.devDefault !== 'string') throw invalid(name, 'devDefault must be the stored text (a string)');
    if (resolveEntry(name, entry).secret) {
      throw invalid(name, 'devDefault is refused on a secret: put a development value in .env (keyshift/sources/dotenv) or the local store, not in the code');
    }
  }
  assertPolicy(name, entry, rules);
}

/**
 * Declares a service's entries once. The declaration is checked now (shape and the
 * default policy), so a `*_PRIVATE_KEY` declared dynamic fails at import time, and
 * the codecs give the manager its types.
 */
export function defineSecrets<const D extends Declaration>(declaration: D, options: { policy?: readonly PolicyRule[] } = {}): D {
  if (typeof declaration !== 'object' || declaration === null) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, 'defineSecrets() takes an object of entries');
  }
  for (const [name, entry] of Object.entries(declaration)) checkEntry(name, entry, options.policy ?? DEFAULT_POLICY);
  return Object.freeze(declaration);
}

/** Resolved, defaulted facts about one entry. */
export interface EntryInfo {
  readonly name: string;
  readonly key: string;
  readonly kind: 'static' | 'dynamic';
  readonly category: Category;
  readonly type: string;
  readonly ttlMs: number | undefined;
  readonly maxStaleMs: number | undefined;
  readonly onStale: 'serve-stale' | 'fail-closed';
  readonly optional: boolean;
  readonly secret: boolean;
  readonly rotation: RotationKind | undefined;
  readonly description: string | undefined;
  /** How long a replaced value stays readable through overlapping(); undefined: no overlap. */
  readonly overlapMs: number | undefined;
  /** The canary policy; undefined: a new version is served at once. */
  readonly adoption: ResolvedAdoption | undefined;
}

export function resolveEntry(name: string, entry: EntryDeclaration<unknown>): EntryInfo {
  const category = entry.category ?? 'other';
  return Object.freeze({
    name,
    key: entry.key ?? name,
    kind: entry.static ? 'static' : 'dynamic',
    category,
    type: entry.type.kind,
    ttlMs: entry.static ? undefined : (entry.ttlMs ?? DEFAULT_TTL_MS_BY_CATEGORY[category]),
    maxStaleMs: entry.maxStaleMs,
    onStale: entry.onStale ?? 'serve-stale',
    optional: entry.optional ?? false,
    secret: entry.secret ?? SECRET_CATEGORIES.has(category),
    rotation: entry.rotation,
    description: entry.description,
    overlapMs: entry.overlapMs,
    adoption: resolveAdoption(name, category, entry.adoption, entry.static ?? false),
  });
}
