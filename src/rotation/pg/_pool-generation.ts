import type { ClientConfig, Pool, PoolClient, PoolConfig } from 'pg';
import type { PgModule } from '../_pg.ts';

/** One set of credentials, read from one consistent snapshot of the manager. */
export interface GenerationCredentials {
  /** The role, or undefined for pg's default (PGUSER, the OS user). */
  readonly user: string | undefined;
  /** Reveals the password: pg calls it at connect time, so no pool or client option holds the string. */
  readonly password: () => string;
  /** The values as the manager serves them: compared by identity to tell one version from the next. */
  readonly identity: readonly unknown[];
  readonly userVersion: string | undefined;
  readonly passwordVersion: string | undefined;
}

export interface GenerationHooks {
  /** A new connection failed. Runs before pg-pool hands the freed slot to the next waiter. */
  connectFailed(generation: PoolGeneration, error: Error): void;
  /** A client failed outside a call's own query: idle (DB restart, pg_terminate_backend, F10) or checked out. */
  clientError(generation: PoolGeneration, error: Error, client: PoolClient | undefined): void;
}

export interface DrainResult {
  durationMs: number;
  /** Clients still checked out at the drain timeout, closed by force. */
  forcedClients: number;
}

/** Thrown to a waiter whose generation stopped serving (swapped, frozen, ended): it retries on the current one. */
export class GenerationGone extends Error {
  constructor() {
    super('the pool generation stopped serving new calls');
    this.name = 'GenerationGone';
  }
}

/** Refused at once, without contacting the server: the generation's credentials were refused. */
export class GenerationFrozen extends Error {
  constructor() {
    super('the pool generation is frozen after an auth failure');
    this.name = 'GenerationFrozen';
  }
}

interface CallbackClient {
  connect(callback: (error: Error | null, ...rest: unknown[]) => void): void;
  password?: unknown;
}

/**
 * One pg.Pool built with one set of credentials. A swap makes a new generation and
 * retires the old one: its waiters move to the new pool, its checked-out clients
 * finish their work, and `pool.end()` closes it once they are released.
 */
export class PoolGeneration {
  readonly pool: Pool;
  readonly #checkedOut = new Map<PoolClient, () => void>();
  readonly #waiters = new Set<(error: Error) => void>();
  #frozen = false;
  #retired: Promise<DrainResult> | undefined;

  constructor(
    pg: PgModule,
    readonly id: number,
    config: PoolConfig,
    readonly credentials: GenerationCredentials,
    private readonly hooks: GenerationHooks,
  ) {
    const Client = guardedClient(pg, this, hooks);
    this.pool = new pg.Pool({ ...config, user: credentials.user, password: credentials.password, Client } as PoolConfig);
    this.pool.on('error', (error: Error) => hooks.clientError(this, error, undefined));
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  get retired(): boolean {
    return this.#retired !== undefined;
  }

  get checkedOut(): number {
    return this.#checkedOut.size;
  }

  /**
   * Stops opening connections: the credentials were refused, so only the connections
   * already open serve (existing sessions survive ALTER ROLE). pg-pool reads `max`
   * on every checkout, so waiters queue for an idle client instead of connecting.
   */
  freeze(): void {
    this.#frozen = true;
    this.pool.options.max = 0;
  }

  /** A client within `timeoutMs`; rejects with GenerationGone when the generation stops serving first. */
  acquire(timeoutMs: number, onTimeout: () => Error): Promise<PoolClient> {
    if (this.#retired) return Promise.reject(new GenerationGone());
    return new Promise<PoolClient>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        this.#waiters.delete(leave);
        fn();
        return true;
      };
      const leave = (error: Error): void => void settle(() => reject(error));
      const timer = setTimeout(() => leave(onTimeout()), timeoutMs);
      timer.unref();
      this.#waiters.add(leave);
      // The callback form runs synchronously at checkout: the client is never without an
      // 'error' listener, even when the server's next message (57P01) is in the same chunk.
      this.pool.connect((error, client) => {
        if (error || !client) return leave(error ?? new GenerationGone());
        const tracked = this.#track(client);
        // A waiter that left (timeout, swap) gets nothing: the client goes straight back.
        if (!settle(() => resolve(tracked))) tracked.release();
      });
    });
  }

  #track(client: PoolClient): PoolClient {
    const guard = (error: Error): void => this.hooks.clientError(this, error, client);
    client.on('error', guard);
    const release = client.release.bind(client);
    let released = false;
    const done = (error?: Error | boolean): void => {
      if (released) return;
      released = true;
      client.removeListener('error', guard);
      this.#checkedOut.delete(client);
      release(error);
    };
    this.#checkedOut.set(client, () => done(new Error('closed by the pool drain timeout')));
    client.release = done;
    return client;
  }

  /** Sends every waiter back to the caller's retry loop (a swap happened). */
  abandonWaiters(): void {
    for (const leave of [...this.#waiters]) leave(new GenerationGone());
  }

  /**
   * Ends the pool once its checked-out clients are released; clients still out after
   * `drainTimeoutMs` are closed by force. Idempotent.
   */
  retire(drainTimeoutMs: number): Promise<DrainResult> {
    this.#retired ??= this.#drain(drainTimeoutMs);
    return this.#retired;
  }

  async #drain(drainTimeoutMs: number): Promise<DrainResult> {
    const started = performance.now();
    this.abandonWaiters();
    let forcedClients = 0;
    const timer = setTimeout(() => {
      for (const close of [...this.#checkedOut.values()]) {
        forcedClients++;
        close();
      }
    }, drainTimeoutMs);
    timer.unref();
    try {
      await this.pool.end();
    } finally {
      clearTimeout(timer);
    }
    return { durationMs: performance.now() - started, forcedClients };
  }
}

/**
 * pg-pool's `Client` option: a pg.Client whose connect reports failures to the
 * generation before pg-pool moves on to the next waiter (so an auth failure freezes
 * the generation before a cascade of doomed connects), refuses at once while frozen,
 * and forgets the revealed password once connected.
 */
function guardedClient(pg: PgModule, generation: PoolGeneration, hooks: GenerationHooks): new (config: ClientConfig) => unknown {
  const Base = pg.Client as unknown as new (config: ClientConfig) => CallbackClient;
  const password = generation.credentials.password;
  return class GuardedClient extends Base {
    override connect(callback: (error: Error | null, ...rest: unknown[]) => void): void {
      if (generation.frozen) {
        const error = new GenerationFrozen();
        process.nextTick(() => callback(error));
        return;
      }
      super.connect((error, ...rest) => {
        forgetPassword(this, password);
        if (error) hooks.connectFailed(generation, error);
        callback(error, ...rest);
      });
    }
  };
}

/** pg keeps the revealed string on the client (non-enumerable); put the callback back instead. */
function forgetPassword(client: CallbackClient, password: () => string): void {
  client.password = password;
  const parameters = (client as { connectionParameters?: { password?: unknown } }).connectionParameters;
  if (parameters) parameters.password = password;
}
