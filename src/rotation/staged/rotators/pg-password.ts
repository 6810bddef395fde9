/**
 * A PostgreSQL password, rotated in stages: create a random password, set it with
 * ALTER ROLE through an admin connection (as a SCRAM verifier: the plaintext never
 * reaches the server), test it with a real login, and finish by putting it in the
 * store, where the rotating pool (keyshift/rotation/pg) picks it up and swaps its
 * connections over without a failed query.
 *
 * Two strategies, as operators run them:
 * - 'single-user': one role's password changes in place. Between ALTER ROLE and the
 *   pool's swap, new connections with the old password are refused; the pool retries
 *   them (its auth-retry path) while its open connections keep serving.
 * - 'alternating-users': two roles take turns. The inactive role gets the new
 *   password; the finish stage writes its name to the user secret and the password to
 *   the password secret; live sessions of the other role are never touched.
 */
import type { ClientConfig } from 'pg';
import { loadOptionalPeer } from '../../../_optional-peer.ts';
import { DEFAULT_PG_PASSWORD_LENGTH } from '../../../constants.ts';
import { ErrorCodes, KeyshiftError } from '../../../errors.ts';
import { isAuthFailure, type PgModule, sqlState } from '../../_pg.ts';
import type { PendingContext, RotationContext, Rotator } from '../rotator.ts';
import { scramVerifier } from './_scram-verifier.ts';
import { ALPHABETS, randomString } from './random-secret.ts';

/** What ALTER ROLE runs on: a pg.Pool, a pg.Client, or anything with the same query(). */
export interface PgQueryable {
  query(text: string): Promise<unknown>;
}

/** Where the test login goes: pg client options without credentials. */
export type PgConnection = Omit<ClientConfig, 'user' | 'password' | 'connectionString'>;

interface CommonOptions {
  /** Runs ALTER ROLE: a connection of a role allowed to alter the rotated roles (CREATEROLE or superuser). */
  admin: PgQueryable;
  /** Host, port, database, ssl... of the test login. Default {} (pg's defaults: PGHOST, PGPORT, PGDATABASE). */
  connection?: PgConnection;
  /** Characters of a new password (base62). Default 40 (DEFAULT_PG_PASSWORD_LENGTH). */
  length?: number;
  /** The pg module. Default: `await import('pg')` (an optional peer dependency). */
  pg?: PgModule;
}

export interface PgSingleUserOptions extends CommonOptions {
  strategy?: 'single-user';
  /** The role whose password rotates. */
  role: string;
}

export interface PgAlternatingUsersOptions extends CommonOptions {
  strategy: 'alternating-users';
  /** The two roles that take turns. */
  roles: readonly [string, string];
  /** The store secret naming the active role (the pool's user entry), written in the finish stage. */
  userSecret: string;
}

export type PgPasswordOptions = PgSingleUserOptions | PgAlternatingUsersOptions;

/** The pending value: which role gets which password. Stored encrypted as the rotation's pending version. */
interface Pending {
  role: string;
  password: string;
}

const ROLE = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `pgPassword(): ${message}`);
}

const quoteIdent = (role: string): string => `"${role.replaceAll('"', '""')}"`;

function parsePending(ctx: PendingContext): Pending {
  try {
    const parsed = JSON.parse(ctx.pending.text()) as Partial<Pending>;
    if (typeof parsed.role === 'string' && typeof parsed.password === 'string') return { role: parsed.role, password: parsed.password };
  } catch {
    // reported below, without the text
  }
  throw new KeyshiftError(ErrorCodes.STORE_CORRUPT, `secret ${ctx.name}: the pending version is not a pg-password rotation value`, { entry: ctx.name });
}

/** A failed ALTER ROLE or login as a value-free error: only the SQLSTATE or errno of pg's error. */
function pgFailure(what: string, name: string, error: unknown): KeyshiftError {
  const state = sqlState(error);
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  const why = state ? `SQLSTATE ${state}` : typeof errno === 'string' ? errno : error instanceof Error ? error.name : typeof error;
  const code = isAuthFailure(error) ? ErrorCodes.DB_AUTH : ErrorCodes.DB_UNAVAILABLE;
  return new KeyshiftError(code, `${what} failed (${why})`, { entry: name, cause: error, ...(state ? { details: { sqlState: state } } : {}) });
}

export function pgPassword(options: PgPasswordOptions): Rotator {
  const length = options.length ?? DEFAULT_PG_PASSWORD_LENGTH;
  if (!Number.isSafeInteger(length) || length < 20 || length > 256) throw invalid('length must be an integer from 20 to 256');
  const roles = options.strategy === 'alternating-users' ? options.roles : [options.role];
  if (roles.some((r) => typeof r !== 'string' || !ROLE.test(r)) || new Set(roles).size !== roles.length) {
    throw invalid(options.strategy === 'alternating-users' ? 'roles must be two different role names' : 'role must be a role name');
  }
  let pg: Promise<PgModule> | undefined;
  const pgModule = (): Promise<PgModule> => {
    pg ??= options.pg ? Promise.resolve(options.pg) : loadOptionalPeer('pg', 'the pgPassword rotator', () => import('pg')).then((m) => m.default);
    return pg;
  };

  /** The role the user secret names now (alternating users), or undefined before its first version. */
  const activeRole = async (ctx: RotationContext, userSecret: string): Promise<string | undefined> => {
    try {
      const { value } = await ctx.store.access(userSecret, 'latest');
      const role = Buffer.from(value).toString('utf8').trim();
      value.fill(0);
      return role;
    } catch (error) {
      if (error instanceof KeyshiftError && error.code === ErrorCodes.SOURCE_NOT_FOUND) return undefined;
      throw error;
    }
  };

  /** The role to give the new password: the single one, or the one not active now. */
  const targetRole = async (ctx: RotationContext): Promise<string> => {
    if (options.strategy !== 'alternating-users') return options.role;
    const active = await activeRole(ctx, options.userSecret);
    return active === options.roles[0] ? options.roles[1] : options.roles[0];
  };

  return {
    kind: options.strategy === 'alternating-users' ? 'pg-password-alternating' : 'pg-password',

    async create(ctx) {
      const pending: Pending = { role: await targetRole(ctx), password: randomString(length, ALPHABETS.alphanumeric) };
      return JSON.stringify(pending);
    },

    async set(ctx) {
      const { role, password } = parsePending(ctx);
      try {
        await options.admin.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD '${scramVerifier(password)}'`);
      } catch (error) {
        throw pgFailure(`ALTER ROLE ${role} through the admin connection`, ctx.name, error);
      }
    },

    async test(ctx) {
      const { role, password } = parsePending(ctx);
      const { Client } = await pgModule();
      const client = new Client({ connectionTimeoutMillis: 10_000, ...options.connection, user: role, password });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
      } catch (error) {
        throw pgFailure(`a test login as ${role} with the pending password`, ctx.name, error);
      } finally {
        await client.end().catch(() => undefined);
      }
    },

    async finish(ctx) {
      const { role, password } = parsePending(ctx);
      if (options.strategy === 'alternating-users' && (await activeRole(ctx, options.userSecret)) !== role) {
        // The role first, then (by the runner) the password: a re-run after a crash finds the role written and leaves it.
        await ctx.store.put(options.userSecret, role);
      }
      return password;
    },
  };
}
