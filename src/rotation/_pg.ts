/** What keyshift uses of the `pg` module (an optional peer): its shape, and its errors read as SQLSTATEs. */
import type { Client, Pool } from 'pg';
import { ErrorCodes, KeyshiftError } from '../errors.ts';

/** What the pool needs of the `pg` module, imported lazily by the pool factory (an optional peer). */
export interface PgModule {
  readonly Pool: typeof Pool;
  readonly Client: typeof Client;
}

/** SQLSTATEs a server answers when it refuses the credentials (RDS Proxy answers 28000). */
const AUTH_STATES: ReadonlySet<string> = new Set(['28P01', '28000']);

/** The five-character SQLSTATE of a pg DatabaseError, or undefined for anything else. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when the server refused the user or password (28P01 invalid_password, 28000). */
export function isAuthFailure(error: unknown): boolean {
  return AUTH_STATES.has(sqlState(error) ?? '');
}

/** True for pg-pool's own "no connection in time" errors. */
export function isConnectTimeout(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return message === 'timeout exceeded when trying to connect' || message === 'Connection terminated due to connection timeout';
}

/**
 * A connect failure as a KeyshiftError. pg's message is never copied (it names the
 * role and host and may one day carry more, F4): only the SQLSTATE and errno code.
 */
export function connectError(error: unknown, generation: number, retries: number): KeyshiftError {
  const state = sqlState(error);
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  const details: Record<string, string | number> = { generation };
  if (state) details.sqlState = state;
  else if (typeof errno === 'string') details.errno = errno;
  if (isAuthFailure(error)) {
    return new KeyshiftError(
      ErrorCodes.DB_AUTH,
      `the database refused the credentials of pool generation ${generation} (SQLSTATE ${state}) after ${retries} retries; check that the role's password matches the store`,
      { details, cause: error },
    );
  }
  const why = state ? `SQLSTATE ${state}` : (errno ?? (error instanceof Error ? error.name : typeof error));
  return new KeyshiftError(ErrorCodes.DB_UNAVAILABLE, `pool generation ${generation} could not open a connection (${why})`, {
    details,
    cause: error,
  });
}

/** The typed error of a call that waited for a connection past its timeout. */
export function connectTimeout(timeoutMs: number, generation: number): KeyshiftError {
  return new KeyshiftError(ErrorCodes.DB_UNAVAILABLE, `no database connection within ${timeoutMs} ms (pool generation ${generation})`, {
    details: { generation, timeoutMs },
  });
}
