import { ErrorCodes, KeyshiftError } from '../errors.ts';

/** The errno code of a Node fs error, if any. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Turns a failed fs call into a KeyshiftError naming the path and what was being done.
 * Permanent faults (permission, read-only file system, a path that cannot be used) become
 * KS_ERR_SOURCE_DENIED, which is not retried as transient; everything else
 * KS_ERR_SOURCE_UNAVAILABLE.
 */
export function fsError(error: unknown, action: string, path: string): KeyshiftError {
  if (error instanceof KeyshiftError) return error;
  const code = errnoCode(error) ?? 'unknown';
  const details = { path, errno: code };
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new KeyshiftError(ErrorCodes.SOURCE_DENIED, `permission denied ${action} ${path} (${code})`, {
        cause: error,
        details,
      });
    case 'EROFS':
      return new KeyshiftError(ErrorCodes.SOURCE_DENIED, `${path} is on a read-only file system (${action})`, {
        cause: error,
        details,
      });
    case 'ENOTDIR':
      return new KeyshiftError(ErrorCodes.SOURCE_DENIED, `cannot use ${path}: a part of the path is not a directory`, {
        cause: error,
        details,
      });
    case 'ENAMETOOLONG':
    case 'ELOOP':
      // Permanent: retrying cannot make the path shorter or undo a loop of links.
      return new KeyshiftError(ErrorCodes.SOURCE_DENIED, `cannot use ${path}: ${code === 'ELOOP' ? 'a loop of symbolic links' : 'a name in it is too long for this file system'} (${action}, ${code})`, {
        cause: error,
        details,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `no space left ${action} ${path} (${code})`, {
        cause: error,
        details,
      });
    default:
      return new KeyshiftError(ErrorCodes.SOURCE_UNAVAILABLE, `failed ${action} ${path} (${code})`, {
        cause: error,
        details,
      });
  }
}

/** A KS_ERR_STORE_CORRUPT naming the file and what is wrong with it. Never overwrites anything. */
export function corrupt(path: string, problem: string, cause?: unknown): KeyshiftError {
  return new KeyshiftError(
    ErrorCodes.STORE_CORRUPT,
    `local store file ${path} is corrupt: ${problem}; it was left untouched (restore it from a backup or remove it)`,
    { ...(cause === undefined ? {} : { cause }), details: { path } },
  );
}

/** True for a KS_ERR_STORE_CORRUPT: damage, as opposed to a failure to read. */
export function isCorrupt(error: unknown): error is KeyshiftError {
  return error instanceof KeyshiftError && error.code === ErrorCodes.STORE_CORRUPT;
}
