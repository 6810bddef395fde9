import { inspect } from 'node:util';
import type { PoolClient, PoolConfig, QueryConfig, QueryResult, QueryResultRow } from 'pg';
import { loadOptionalPeer } from '../../_optional-peer.ts';
import {
  DEFAULT_PG_ALERT_AFTER_FAILURES,
  DEFAULT_PG_CONNECT_TIMEOUT_MS,
  DEFAULT_PG_DRAIN_TIMEOUT_MS,
  DEFAULT_PG_SETTLE_MS,
  PG_AUTH_MAX_ATTEMPTS_PER_MINUTE,
  PG_AUTH_MAX_RETRIES,
} from '../../constants.ts';
import type { Keyshift } from '../../core/create-keyshift.ts';
import type { Declaration, DynamicKeys } from '../../core/define-secrets.ts';
import { stderrLogger, silentLogger } from '../../core/logger.ts';
import type { BackoffOptions } from '../../core/schedule.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import type { Disposer, Logger } from '../../types.ts';
import { AuthPacer } from './_auth-pacer.ts';
import type { RotatingPoolEvents } from './rotating-pool-events.ts';
import { type CredentialEntries, credentialEntries, readCredentials, sameCredentials } from './_credentials.ts';
import { RotationEmitter } from '../_emitter.ts';
import { hostOf, type RotationHost } from '../_host.ts';
import { connectError, connectTimeout, isAuthFailure, isConnectTimeout, type PgModule, sqlState } from '../_pg.ts';
import {
  type GenerationCredentials,
  GenerationFrozen,
  GenerationGone,
  PoolGeneration,
} from './_pool-generation.ts';

export type { RotatingPoolEvents } from './rotating-pool-events.ts';

/** This part's defaults and limits. */
export {
  DEFAULT_PG_ALERT_AFTER_FAILURES,
  DEFAULT_PG_CONNECT_TIMEOUT_MS,
  DEFAULT_PG_DRAIN_TIMEOUT_MS,
  DEFAULT_PG_SETTLE_MS,
  PG_AUTH_MAX_ATTEMPTS_PER_MINUTE,
  PG_AUTH_MAX_RETRIES,
} from '../../constants.ts';

export interface RotatingPoolOptions<D extends Declaration> {
  /** The manager the credentials come from (ready). */
  keyshift: Keyshift<D>;
  /** The password entry, declared with `rotation: 'pg-pool'`. */
  password: DynamicKeys<D>;
  /** The role: an entry name (read with the password from one snapshot) or a fixed role name. Default: pg's (PGUSER). */
  user?: (keyof D & string) | (string & {});
  /** 'single-user': the password changes in place. 'alternating-users': two roles; the user entry switches with the password. Default 'single-user'. */
  strategy?: 'single-user' | 'alternating-users';
  /** pg.PoolConfig without credentials: host, port, database, max, ssl, connectionTimeoutMillis... Default {}. */
  poolConfig?: Omit<PoolConfig, 'user' | 'password' | 'connectionString' | 'Client'>;
  /** An old pool's clients still checked out this long after a swap are closed. Default 30,000 ms. */
  drainTimeoutMs?: number;
  /** Changes of the user and password entries closer together than this make one swap. Default 50 ms. */
  settleMs?: number;
  /**
   * Open as many connections on the new pool as the serving one has before swapping, so
   * calls never queue behind a burst of handshakes (SCRAM costs milliseconds each). Default true.
   */
  prewarm?: boolean;
  /** Retries of one call after an auth failure, within its connect timeout. Default 5 (the AWS JDBC wrapper's). */
  authRetries?: number;
  /** Backoff between credential checks while the server refuses them. Default 1 s doubling to 30 s, ±25 %. */
  authBackoff?: BackoffOptions;
  /** Failed credential checks allowed in any 60 s window. Default 8. */
  maxAuthAttemptsPerMinute?: number;
  /** Consecutive failed checks before the one alert of an incident. Default 2 (one miss while a rotation settles is not paged). */
  alertAfterFailures?: number;
  /** Pino-compatible logger, or false. Default: warnings and errors on stderr. */
  logger?: Logger | false;
  /** The pg module. Default: `await import('pg')` (an optional peer dependency). */
  pg?: PgModule;
  /** Random source for backoff jitter. Default Math.random. */
  random?: () => number;
}

export interface RotatingPoolStatus {
  generation: number;
  frozen: boolean;
  userVersion: string | undefined;
  passwordVersion: string | undefined;
  /** The generation being checked, while new credentials are refused. */
  candidate: { generation: number; failures: number } | undefined;
  draining: number;
  swaps: number;
  authRetries: number;
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** A pg.Pool look-alike whose credentials rotate without a restart or a failed query. */
export interface RotatingPool {
  query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: readonly unknown[]): Promise<QueryResult<R>>;
  /** A client of the current pool; release() it as with pg. It stays on the pool it came from. */
  connect(): Promise<PoolClient>;
  on<E extends keyof RotatingPoolEvents>(event: E, listener: (payload: RotatingPoolEvents[E]) => void): Disposer;
  status(): RotatingPoolStatus;
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  /** Ends every pool once its checked-out clients are released. A second call is a no-op. */
  end(): Promise<void>;
}

/**
 * A PostgreSQL pool whose user and password come from keyshift entries. On a change
 * it builds a pool with the new credentials, checks them with one connection, sends
 * new calls there and ends the old pool once its clients are released. A refused
 * check keeps the old pool serving and retries at backoff, with one alert.
 */
export async function createRotatingPool<D extends Declaration>(options: RotatingPoolOptions<D>): Promise<RotatingPool> {
  const host = hostOf(options.keyshift, 'createRotatingPool()');
  const entries = credentialEntries(host, options.user, options.password, options.strategy ?? 'single-user');
  const pg = options.pg ?? (await loadOptionalPeer('pg', 'keyshift/rotation/pg (createRotatingPool)', () => import('pg'))).default;
  return new RotatingPg(pg, host, entries, options);
}

class RotatingPg implements RotatingPool {
  readonly #pg: PgModule;
  readonly #host: RotationHost;
  readonly #entries: CredentialEntries;
  readonly #opts: RotatingPoolOptions<Declaration>;
  readonly #config: PoolConfig;
  readonly #connectTimeoutMs: number;
  readonly #logger: Logger;
  readonly #events: RotationEmitter<RotatingPoolEvents>;
  readonly #draining = new Set<PoolGeneration>();
  readonly #checking = new WeakSet<PoolGeneration>();
  /** Checked-out clients whose connection failed before the caller used them. */
  readonly #broken = new WeakSet<PoolClient>();
  readonly #unsubscribe: Disposer;
  #current: PoolGeneration;
  #candidate: PoolGeneration | undefined;
  #pacer: AuthPacer | undefined;
  #seq = 0;
  #swaps = 0;
  #authRetries = 0;
  #settleTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closing: Promise<void> | undefined;

  constructor(pg: PgModule, host: RotationHost, entries: CredentialEntries, options: RotatingPoolOptions<Declaration>) {
    this.#pg = pg;
    this.#host = host;
    this.#entries = entries;
    this.#opts = options;
    this.#logger = options.logger === false ? silentLogger : (options.logger ?? stderrLogger);
    this.#events = new RotationEmitter('the rotating pool', this.#logger, 'pool', { manager: host.name });
    this.#connectTimeoutMs = options.poolConfig?.connectionTimeoutMillis || DEFAULT_PG_CONNECT_TIMEOUT_MS;
    this.#config = withoutCredentials({ ...options.poolConfig, connectionTimeoutMillis: this.#connectTimeoutMs });
    this.#current = this.#generation(readCredentials(host, entries));
    const watched = new Set(entries.watched);
    this.#unsubscribe = host.on('change', ({ name }) => {
      if (watched.has(name)) this.#settle();
    });
  }

  get totalCount(): number {
    return this.#pools().reduce((n, g) => n + g.pool.totalCount, 0);
  }

  get idleCount(): number {
    return this.#pools().reduce((n, g) => n + g.pool.idleCount, 0);
  }

  get waitingCount(): number {
    return this.#pools().reduce((n, g) => n + g.pool.waitingCount, 0);
  }

  on<E extends keyof RotatingPoolEvents>(event: E, listener: (payload: RotatingPoolEvents[E]) => void): Disposer {
    return this.#events.on(event, listener);
  }

  async query<R extends QueryResultRow = QueryResultRow>(text: string | QueryConfig, values?: readonly unknown[]): Promise<QueryResult<R>> {
    const client = await this.connect();
    try {
      return await client.query<R>(text, values === undefined ? undefined : [...values]);
    } finally {
      client.release();
    }
  }

  /**
   * A client of the current generation. A swap while waiting moves the call to the
   * new pool; an auth failure is retried (at most `authRetries` times, within the
   * connect timeout) without new connects on the refused credentials.
   */
  async connect(): Promise<PoolClient> {
    const started = performance.now();
    const maxRetries = this.#opts.authRetries ?? PG_AUTH_MAX_RETRIES;
    let retries = 0;
    for (;;) {
      if (this.#closing) throw new KeyshiftError(ErrorCodes.CLOSED, 'the rotating pool was ended');
      const gen = this.#current;
      const remainingMs = this.#connectTimeoutMs - (performance.now() - started);
      if (remainingMs <= 0) throw connectTimeout(this.#connectTimeoutMs, gen.id);
      try {
        const client = await gen.acquire(remainingMs, () => connectTimeout(this.#connectTimeoutMs, gen.id));
        // Killed while handed over (pg_terminate_backend, a restart): nothing was sent on it, so take another.
        if (!this.#broken.has(client)) return client;
        client.release();
      } catch (error) {
        if (error instanceof GenerationGone && gen !== this.#current) continue;
        if (error instanceof KeyshiftError) throw error;
        if ((isAuthFailure(error) || error instanceof GenerationFrozen) && retries < maxRetries) {
          retries++;
          this.#authRetries++;
          continue;
        }
        if (isConnectTimeout(error)) throw connectTimeout(this.#connectTimeoutMs, gen.id);
        throw connectError(error, gen.id, retries);
      }
    }
  }

  status(): RotatingPoolStatus {
    const { id, frozen, credentials } = this.#current;
    const candidate = this.#candidate;
    return {
      generation: id,
      frozen,
      userVersion: credentials.userVersion,
      passwordVersion: credentials.passwordVersion,
      candidate: candidate ? { generation: candidate.id, failures: this.#pacer?.failures ?? 0 } : undefined,
      draining: this.#draining.size,
      swaps: this.#swaps,
      authRetries: this.#authRetries,
      totalCount: this.totalCount,
      idleCount: this.idleCount,
      waitingCount: this.waitingCount,
    };
  }

  [inspect.custom](): string {
    const s = this.status();
    return `RotatingPool { generation: ${s.generation}, passwordVersion: ${s.passwordVersion ?? '-'}, total: ${s.totalCount}, idle: ${s.idleCount}, waiting: ${s.waitingCount} }`;
  }

  end(): Promise<void> {
    this.#closing ??= this.#end();
    return this.#closing;
  }

  async #end(): Promise<void> {
    this.#unsubscribe();
    clearTimeout(this.#settleTimer);
    clearTimeout(this.#retryTimer);
    const drain = this.#opts.drainTimeoutMs ?? DEFAULT_PG_DRAIN_TIMEOUT_MS;
    await Promise.all(this.#pools().map((g) => g.retire(drain)));
  }

  #pools(): PoolGeneration[] {
    return [this.#current, ...(this.#candidate ? [this.#candidate] : []), ...this.#draining];
  }

  #generation(credentials: GenerationCredentials): PoolGeneration {
    return new PoolGeneration(this.#pg, ++this.#seq, this.#config, credentials, {
      connectFailed: (gen, error) => this.#connectFailed(gen, error),
      clientError: (gen, error, client) => this.#clientError(gen, error, client),
    });
  }

  /** Folds the user and password changes of one rotation into one swap. */
  #settle(): void {
    if (this.#closing) return;
    clearTimeout(this.#settleTimer);
    this.#settleTimer = setTimeout(() => this.#consider('change'), this.#opts.settleMs ?? DEFAULT_PG_SETTLE_MS);
    this.#settleTimer.unref();
  }

  /** Reads the credentials and, when they differ from the serving pool's, checks them in a new pool. */
  #consider(trigger: 'change' | 'recovery'): void {
    if (this.#closing) return;
    const next = readCredentials(this.#host, this.#entries);
    if (!this.#current.frozen && sameCredentials(next, this.#current.credentials)) {
      this.#dropCandidate();
      this.#recovered();
      return;
    }
    if (this.#candidate && sameCredentials(next, this.#candidate.credentials)) {
      // The same credentials again: a recovery checks them now, a stray change waits for the backoff.
      if (trigger === 'recovery') this.#check(this.#candidate, trigger);
      return;
    }
    this.#dropCandidate();
    this.#candidate = this.#generation(next);
    this.#check(this.#candidate, trigger);
  }

  #dropCandidate(): void {
    const candidate = this.#candidate;
    this.#candidate = undefined;
    candidate?.retire(0).catch(() => undefined);
  }

  /** One credential check: a connection on the candidate pool. It stays there, warm, on success. */
  #check(gen: PoolGeneration, trigger: 'change' | 'recovery'): void {
    if (this.#checking.has(gen) || this.#closing) return;
    const waitMs = this.#pacer?.waitMs(performance.now()) ?? 0;
    if (waitMs > 0) {
      this.#retryLater(waitMs);
      return;
    }
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#checking.add(gen);
    this.#pacer?.started(performance.now());
    gen
      .acquire(this.#connectTimeoutMs, () => connectTimeout(this.#connectTimeoutMs, gen.id))
      .then(
        async (client) => {
          client.release();
          if (this.#candidate === gen && !this.#closing) await this.#prewarm(gen);
          if (this.#candidate === gen && !this.#closing) this.#promote(gen, trigger);
        },
        (error: unknown) => {
          if (this.#candidate === gen && !this.#closing) this.#retryLater(this.#checkFailed(gen, 'candidate', error));
        },
      )
      .finally(() => this.#checking.delete(gen));
  }

  /** Opens on the checked pool as many connections as the serving pool has, while the serving pool still serves. */
  async #prewarm(gen: PoolGeneration): Promise<void> {
    const serving = this.#current.pool.totalCount;
    const wanted = Math.min(serving, this.#config.max ?? 10) - gen.pool.totalCount;
    if (this.#opts.prewarm === false || serving === 0 || wanted <= 0) return;
    const opened = await Promise.allSettled(
      Array.from({ length: wanted }, () => gen.acquire(this.#connectTimeoutMs, () => connectTimeout(this.#connectTimeoutMs, gen.id))),
    );
    for (const result of opened) if (result.status === 'fulfilled') result.value.release();
  }

  /** Counts a refused check (one incident: backoff, per-minute cap, one alert); returns the delay before the next. */
  #checkFailed(gen: PoolGeneration, phase: 'candidate' | 'current', error: unknown): number {
    const now = performance.now();
    this.#pacer ??= new AuthPacer(
      now,
      this.#opts.authBackoff ?? {},
      this.#opts.maxAuthAttemptsPerMinute ?? PG_AUTH_MAX_ATTEMPTS_PER_MINUTE,
      this.#opts.random ?? Math.random,
    );
    if (phase === 'current') this.#pacer.started(now);
    const pacer = this.#pacer;
    const nextCheckMs = pacer.failed(now);
    const state = sqlState(error);
    const auth = isAuthFailure(error);
    this.#logger.warn(
      { generation: gen.id, phase, sqlState: state, failures: pacer.failures, nextCheckMs: Math.round(nextCheckMs) },
      auth ? 'the database refused the credentials; the serving pool keeps its connections' : 'a credential check could not connect',
    );
    this.#events.emit('auth-failure', { generation: gen.id, phase, failures: pacer.failures, nextCheckMs, ...(state ? { sqlState: state } : {}) });
    if (!pacer.alerted && pacer.failures >= (this.#opts.alertAfterFailures ?? DEFAULT_PG_ALERT_AFTER_FAILURES)) {
      pacer.alerted = true;
      const message = auth
        ? `the database has refused the credentials ${pacer.failures} times (SQLSTATE ${state}); existing connections keep serving; put the password the role has, or ALTER ROLE to the stored one`
        : `credential checks failed ${pacer.failures} times without reaching the database; existing connections keep serving`;
      this.#logger.error({ generation: gen.id, failures: pacer.failures, sqlState: state }, message);
      this.#events.emit('alert', { kind: auth ? 'auth-failure' : 'connect-failure', generation: gen.id, failures: pacer.failures, message });
    }
    return nextCheckMs;
  }

  #retryLater(delayMs: number): void {
    if (this.#closing) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#retry(), delayMs);
    this.#retryTimer.unref();
  }

  /** The JDBC wrapper's move: re-read the store (the password may have moved on), then check again. */
  #retry(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    if (this.#closing) return;
    this.#host
      .refresh(this.#entries.watched, { trigger: 'manual' })
      .catch((cause: unknown) => {
        const error = new KeyshiftError(ErrorCodes.INTERNAL, 'the pool could not refresh its credential entries', { cause });
        this.#events.emit('error', { generation: this.#current.id, phase: 'refresh', error });
      })
      .finally(() => this.#consider('recovery'));
  }

  #promote(gen: PoolGeneration, trigger: 'change' | 'recovery'): void {
    const old = this.#current;
    this.#current = gen;
    this.#candidate = undefined;
    this.#swaps++;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#recovered();
    const { userVersion, passwordVersion } = gen.credentials;
    this.#logger.info({ generation: gen.id, previousGeneration: old.id, passwordVersion, userVersion }, 'the pool swapped to new credentials');
    this.#events.emit('swap', { generation: gen.id, previousGeneration: old.id, userVersion, passwordVersion, trigger });
    this.#draining.add(old);
    old.retire(this.#opts.drainTimeoutMs ?? DEFAULT_PG_DRAIN_TIMEOUT_MS).then(
      ({ durationMs, forcedClients }) => {
        this.#draining.delete(old);
        if (forcedClients > 0) this.#logger.warn({ generation: old.id, forcedClients }, 'clients still checked out at the drain timeout were closed');
        this.#events.emit('drained', { generation: old.id, durationMs, forcedClients });
      },
      (cause: unknown) => {
        this.#draining.delete(old);
        const error = new KeyshiftError(ErrorCodes.INTERNAL, `pool generation ${old.id} failed to end`, { cause });
        this.#events.emit('error', { generation: old.id, phase: 'drain', error });
      },
    );
  }

  #recovered(): void {
    const pacer = this.#pacer;
    if (!pacer) return;
    this.#pacer = undefined;
    const durationMs = performance.now() - pacer.since;
    this.#logger.info({ generation: this.#current.id, failures: pacer.failures }, 'the pool credentials work again');
    this.#events.emit('recovered', { generation: this.#current.id, failures: pacer.failures, durationMs });
  }

  /**
   * Runs before pg-pool hands the freed slot to the next waiter: when the server
   * refuses the serving pool's credentials (ALTER ROLE came first, F11), that pool
   * stops connecting at once and a check of the store's credentials starts.
   */
  #connectFailed(gen: PoolGeneration, error: Error): void {
    if (gen !== this.#current || gen.frozen || !isAuthFailure(error) || this.#closing) return;
    gen.freeze();
    setImmediate(() => {
      if (this.#closing) return;
      // New information (the server changed): re-read the store and check now; the pacer still caps the rate.
      this.#checkFailed(gen, 'current', error);
      this.#retry();
    });
  }

  #clientError(gen: PoolGeneration, cause: Error, client: PoolClient | undefined): void {
    if (client) this.#broken.add(client);
    const state = sqlState(cause);
    const why = state ? `SQLSTATE ${state}` : ((cause as NodeJS.ErrnoException).code ?? cause.name);
    const phase = client ? 'checked-out-client' : 'idle-client';
    const error = new KeyshiftError(ErrorCodes.DB_UNAVAILABLE, `a connection of pool generation ${gen.id} failed (${why}); the pool dropped it`, {
      cause,
      details: { generation: gen.id, ...(state ? { sqlState: state } : {}) },
    });
    this.#logger.warn({ generation: gen.id, phase, sqlState: state }, error.message);
    this.#events.emit('error', { generation: gen.id, phase, error });
  }
}

/** pg options without anything that carries a credential, even when a caller cast one in. */
function withoutCredentials(config: PoolConfig): PoolConfig {
  const { user: _user, password: _password, connectionString: _url, Client: _client, ...rest } = config;
  return rest;
}
