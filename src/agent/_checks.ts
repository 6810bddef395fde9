import { ErrorCodes, KeyshiftError } from '../errors.ts';

/** A declaration-file error, naming where in the file it is (`entry X`, `files`, `source`). */
export function configError(where: string, message: string, entry?: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `agent declaration: ${where}: ${message}`, entry === undefined ? {} : { entry });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws when `obj` has a field outside `allowed` (a typo must not be silently ignored). */
export function onlyFields(where: string, obj: Record<string, unknown>, allowed: readonly string[], entry?: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      const shown = /^[A-Za-z0-9_-]{1,40}$/.test(key) ? `"${key}"` : 'a field';
      throw configError(where, `unknown field ${shown} (allowed: ${allowed.join(', ')})`, entry);
    }
  }
}

export function optionalString(where: string, obj: Record<string, unknown>, field: string): string | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw configError(where, `${field} must be a non-empty string`);
  return value;
}

export function optionalPort(where: string, obj: Record<string, unknown>, field: string): number | undefined {
  const value = obj[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65_535) throw configError(where, `${field} must be a port 0..65535`);
  return value;
}
