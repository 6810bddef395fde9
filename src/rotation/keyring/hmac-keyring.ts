import { inspect } from 'node:util';
import {
  DEFAULT_KEYRING_CLOCK_SKEW_MS,
  DEFAULT_KEYRING_TOKEN_TTL_MS,
  DEFAULT_KEYRING_UNKNOWN_KID_COOLDOWN_MS,
} from '../../constants.ts';
import { systemClock } from '../../core/clock.ts';
import type { Keyshift } from '../../core/create-keyshift.ts';
import type { Declaration } from '../../core/define-secrets.ts';
import { stderrLogger, silentLogger } from '../../core/logger.ts';
import { findViolation } from '../../core/policy.ts';
import { reveal } from '../../core/redacted.ts';
import { ErrorCodes, KeyshiftError, PolicyError } from '../../errors.ts';
import type { Clock, Disposer, Logger } from '../../types.ts';
import { RotationEmitter } from '../_emitter.ts';
import { entryOf, hostOf, type RotationHost, versionsOf } from '../_host.ts';
import { decodePayload, encodeToken, macOf, parseToken, sameMac } from './_token.ts';
import { type KeyState, KeysetError, parseKeyset, type RingKey } from './keyset.ts';

export { addKey, createKeyset, type NewKeyOptions, type PromoteOptions, promoteKey, retireKeys } from './keyset-stages.ts';
export { hmacKeysetSchema, type Keyset, KEYSET_FORMAT, type KeyState, parseKeyset, serializeKeyset, type StoredKey } from './keyset.ts';

/** This part's defaults and limits. */
export {
  DEFAULT_KEYRING_CLOCK_SKEW_MS,
  DEFAULT_KEYRING_TOKEN_TTL_MS,
  DEFAULT_KEYRING_UNKNOWN_KID_COOLDOWN_MS,
  KEYRING_MAX_TOKEN_BYTES,
  KEYRING_MIN_KEY_BYTES,
} from '../../constants.ts';

export interface HmacKeyringOptions<D extends Declaration> {
  /** The manager the keyset entry comes from (ready). */
  keyshift: Keyshift<D>;
  /** The keyset entry, declared with `rotation: 'keyring'` (for example SUCCESS_URL_SIGNING_KEY). */
  entry: keyof D & string;
  /** How long a former primary keeps verifying after a promotion; at least tokenTtlMs + clockSkewMs. */
  overlapMs: number;
  /** Lifetime of a token from sign(). Default 15 min. */
  tokenTtlMs?: number;
  /** Clock skew tolerated between instances, for expiry. Default 60 s. */
  clockSkewMs?: number;
  /** At most one store refresh per this long when a token names an unknown kid (F13). Default 30 s. */
  unknownKidCooldownMs?: number;
  /** Time source: `now()` for the cooldown, `wallNow()` for expiry and retirement. Default the system clock. */
  clock?: Clock;
  /** Pino-compatible logger, or false. Default: warnings and errors on stderr. */
  logger?: Logger | false;
}

/** Why a token was refused: each reason is distinct and value-free. */
export type VerifyFailure = 'malformed' | 'unknown_kid' | 'bad_signature' | 'key_retired' | 'expired';

export type VerifyResult =
  | { ok: true; payload: string; kid: string; /** Expiry, epoch ms. */ expiresAt: number }
  | { ok: false; reason: VerifyFailure; kid?: string };

export interface KeyringEvents {
  /** A new keyset version was refused (short key, no primary, bad JSON): the last-known-good ring stays. */
  rejected: { entry: string; version: string | undefined; reason: string };
  /** The ring now holds a new keyset version. */
  change: { entry: string; version: string | undefined; primary: string; kids: string[] };
  /** A token named an unknown kid and the cooldown allowed one store refresh. */
  refresh: { entry: string; kid: string };
}

export interface HmacKeyring {
  /** A token for `payload`, signed with the primary key. */
  sign(payload: string, options?: { ttlMs?: number }): string;
  /** Looks the key up by the token's kid (never tries every key) and checks the MAC in constant time. */
  verify(token: string): Promise<VerifyResult>;
  /** The keys this instance holds, without material: what an instance reports before a promotion. */
  kids(): Array<{ kid: string; state: KeyState }>;
  status(): { entry: string; version: string | undefined; primary: string; kids: Array<{ kid: string; state: KeyState }>; unknownKidRefreshes: number; rejected: number };
  on<E extends keyof KeyringEvents>(event: E, listener: (payload: KeyringEvents[E]) => void): Disposer;
}

interface Ring {
  readonly version: string | undefined;
  readonly byKid: ReadonlyMap<string, RingKey>;
  readonly primary: RingKey;
}

function ringOf(keys: readonly RingKey[], version: string | undefined): Ring {
  return { version, byKid: new Map(keys.map((k) => [k.kid, k])), primary: keys.find((k) => k.state === 'primary') as RingKey };
}

function checkEntry(host: RotationHost, name: string): boolean {
  const owner = 'createHmacKeyring()';
  const entry = entryOf(host, name, owner);
  // A private key is refused before anything else, whatever its declaration says (a new wallet key is a new wallet).
  const violation = findViolation(name, { static: false, category: entry.category, rotation: 'keyring' });
  if (violation) throw new PolicyError(name, violation.rule.id, violation.message);
  if (entry.rotation !== 'keyring') {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${owner}: declare entry ${name} with rotation: 'keyring' to hand it to the keyring`, {
      entry: name,
    });
  }
  return entry.kind === 'static';
}

/**
 * An HMAC-SHA256 keyring over one keyshift entry holding a JSON keyset (see
 * keyset.ts). It signs with the primary key, verifies with the key the token names
 * while it is not retired, and re-reads the store at most once per cooldown when a
 * token names a kid it does not know.
 */
export function createHmacKeyring<D extends Declaration>(options: HmacKeyringOptions<D>): HmacKeyring {
  const host = hostOf(options.keyshift, 'createHmacKeyring()');
  const isStatic = checkEntry(host, options.entry);
  return new Keyring(host, isStatic, options as HmacKeyringOptions<Declaration>);
}

class Keyring implements HmacKeyring {
  readonly #host: RotationHost;
  readonly #entry: string;
  readonly #static: boolean;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #events: RotationEmitter<KeyringEvents>;
  readonly #tokenTtlMs: number;
  readonly #skewMs: number;
  readonly #cooldownMs: number;
  #ring: Ring;
  #value: unknown;
  #lastRefreshAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<void> | undefined;
  #refreshes = 0;
  #rejected = 0;

  constructor(host: RotationHost, isStatic: boolean, options: HmacKeyringOptions<Declaration>) {
    this.#host = host;
    this.#entry = options.entry;
    this.#static = isStatic;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger === false ? silentLogger : (options.logger ?? stderrLogger);
    this.#events = new RotationEmitter('the HMAC keyring', this.#logger, 'keyring', { manager: host.name });
    this.#tokenTtlMs = options.tokenTtlMs ?? DEFAULT_KEYRING_TOKEN_TTL_MS;
    this.#skewMs = options.clockSkewMs ?? DEFAULT_KEYRING_CLOCK_SKEW_MS;
    this.#cooldownMs = options.unknownKidCooldownMs ?? DEFAULT_KEYRING_UNKNOWN_KID_COOLDOWN_MS;
    if (!(options.overlapMs >= this.#tokenTtlMs + this.#skewMs)) {
      throw new KeyshiftError(
        ErrorCodes.INVALID_DECLARATION,
        `createHmacKeyring(): overlapMs (${options.overlapMs}) must be at least tokenTtlMs + clockSkewMs (${this.#tokenTtlMs + this.#skewMs}) so no live token outlives its key`,
        { entry: this.#entry },
      );
    }
    this.#value = this.#read();
    this.#ring = ringOf(this.#parse(this.#value), this.#version());
  }

  #read(): unknown {
    return this.#static ? this.#host.static[this.#entry] : this.#host.snapshot().get(this.#entry);
  }

  #version(): string | undefined {
    return versionsOf(this.#host, [this.#entry]).get(this.#entry);
  }

  #parse(value: unknown): RingKey[] {
    const raw = reveal(value);
    if (typeof raw !== 'string' && (typeof raw !== 'object' || raw === null)) throw new KeysetError('the entry holds no keyset');
    return parseKeyset(raw);
  }

  /** The ring for the entry's current value: re-parsed only when the value changed; a bad version keeps the old ring. */
  #current(): Ring {
    const value = this.#read();
    if (value === this.#value) return this.#ring;
    this.#value = value;
    const version = this.#version();
    try {
      this.#ring = ringOf(this.#parse(value), version);
      const kids = [...this.#ring.byKid.keys()];
      this.#events.emit('change', { entry: this.#entry, version, primary: this.#ring.primary.kid, kids });
    } catch (error) {
      const reason = error instanceof KeysetError ? error.reason : 'invalid keyset';
      this.#rejected++;
      this.#logger.warn({ entry: this.#entry, version, reason }, `keyring ${this.#entry}: version ${version} rejected; the previous ring stays`);
      this.#events.emit('rejected', { entry: this.#entry, version, reason });
    }
    return this.#ring;
  }

  sign(payload: string, options: { ttlMs?: number } = {}): string {
    const ttlMs = options.ttlMs ?? this.#tokenTtlMs;
    if (!(ttlMs > 0 && ttlMs <= this.#tokenTtlMs)) {
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `sign(): ttlMs must be positive and at most tokenTtlMs (${this.#tokenTtlMs}): the overlap covers no longer`);
    }
    const { primary } = this.#current();
    const exp = Math.ceil((this.#clock.wallNow() + ttlMs) / 1000);
    return encodeToken(primary.kid, exp, payload, primary.material as Buffer);
  }

  async verify(token: string): Promise<VerifyResult> {
    const parsed = parseToken(token);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const { kid } = parsed;
    let key = this.#current().byKid.get(kid);
    if (!key) {
      const refreshed = this.#refreshFor(kid);
      if (refreshed) {
        await refreshed;
        key = this.#current().byKid.get(kid);
      }
    }
    if (!key) return { ok: false, reason: 'unknown_kid', kid };
    const now = this.#clock.wallNow();
    if (stateAt(key, now) === 'retired' || !key.material) return { ok: false, reason: 'key_retired', kid };
    if (!sameMac(parsed.mac, macOf(key.material, parsed.signed))) return { ok: false, reason: 'bad_signature', kid };
    if (parsed.exp * 1000 + this.#skewMs < now) return { ok: false, reason: 'expired', kid };
    const payload = decodePayload(parsed.payload);
    if (payload === undefined) return { ok: false, reason: 'malformed', kid };
    return { ok: true, payload, kid, expiresAt: parsed.exp * 1000 };
  }

  /** One store refresh per cooldown; tokens arriving meanwhile wait for it instead of starting another (F13). */
  #refreshFor(kid: string): Promise<void> | undefined {
    if (this.#refreshing) return this.#refreshing;
    const now = this.#clock.now();
    if (this.#static || now - this.#lastRefreshAt < this.#cooldownMs) return undefined;
    this.#lastRefreshAt = now;
    this.#refreshes++;
    this.#events.emit('refresh', { entry: this.#entry, kid });
    this.#refreshing = this.#host
      .refresh([this.#entry], { trigger: 'manual' })
      .then(
        () => undefined,
        (error: unknown) => {
          const code = error instanceof KeyshiftError ? error.code : ErrorCodes.INTERNAL;
          this.#logger.warn({ entry: this.#entry, code }, `keyring ${this.#entry}: refresh for an unknown kid failed`);
        },
      )
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  kids(): Array<{ kid: string; state: KeyState }> {
    const now = this.#clock.wallNow();
    return [...this.#current().byKid.values()].map((k) => ({ kid: k.kid, state: stateAt(k, now) }));
  }

  status(): ReturnType<HmacKeyring['status']> {
    const ring = this.#current();
    return {
      entry: this.#entry,
      version: ring.version,
      primary: ring.primary.kid,
      kids: this.kids(),
      unknownKidRefreshes: this.#refreshes,
      rejected: this.#rejected,
    };
  }

  on<E extends keyof KeyringEvents>(event: E, listener: (payload: KeyringEvents[E]) => void): Disposer {
    return this.#events.on(event, listener);
  }

  [inspect.custom](): string {
    const { entry, version, primary, kids } = this.status();
    return `HmacKeyring { entry: ${entry}, version: ${version ?? '-'}, primary: ${primary}, kids: [${kids.map((k) => `${k.kid}:${k.state}`).join(', ')}] }`;
  }
}

/** A former primary stops verifying at its retiredAt, whether or not retireKeys() has rewritten it yet. */
function stateAt(key: RingKey, now: number): KeyState {
  if (key.state === 'verify-only' && key.retiredAt !== undefined && key.retiredAt <= now) return 'retired';
  return key.state;
}
