import { ErrorCodes, KeyshiftError } from '../errors.ts';

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const ALIAS = /^[A-Za-z_-][A-Za-z0-9_-]{0,62}$/;

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, message);
}

/** Describes what is wrong with a name without echoing it (it may be a pasted value). */
function problemOf(text: string, max: number): string {
  if (text.length === 0) return 'it is empty';
  if (text.length > max) return `it is ${text.length} characters long (at most ${max})`;
  const bad = [...text].findIndex((ch) => !/[A-Za-z0-9_-]/.test(ch));
  return `character ${bad + 1} is not one of A-Z a-z 0-9 _ -`;
}

export function isSecretName(name: string): boolean {
  return NAME.test(name);
}

/** Secret Manager's rule: [A-Za-z0-9_-]{1,255}. */
export function assertSecretName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw invalid(`a secret name must be a string, got ${typeof name}`);
  if (!NAME.test(name)) throw invalid(`invalid secret name: ${problemOf(name, 255)}`);
}

/** Aliases: like names, not starting with a digit (so "3" always means version 3), not "latest". */
export function assertAlias(alias: string): void {
  if (alias === 'latest' || !ALIAS.test(alias)) {
    throw invalid(
      `invalid alias: ${alias === 'latest' ? '"latest" is reserved' : /^[0-9]/.test(alias) ? 'it starts with a digit' : problemOf(alias, 63)}`,
    );
  }
}

/** A version number given by a caller: a positive safe integer. */
export function assertVersionNumber(version: unknown, name: string): asserts version is number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `secret ${name}: a version must be a positive integer`, {
      entry: name,
    });
  }
}

/** A version selector: 'latest', a number, a decimal string, or an alias. */
export type VersionSelector = { kind: 'latest' } | { kind: 'number'; version: number } | { kind: 'alias'; alias: string };

export function parseVersionSelector(input: string | number | undefined, name: string): VersionSelector {
  if (input === undefined || input === 'latest') return { kind: 'latest' };
  if (typeof input === 'number') {
    assertVersionNumber(input, name);
    return { kind: 'number', version: input };
  }
  if (/^[0-9]+$/.test(input)) {
    const version = Number(input);
    assertVersionNumber(version, name);
    return { kind: 'number', version };
  }
  assertAlias(input);
  return { kind: 'alias', alias: input };
}

/** Labels and annotations: string to string. */
export function assertStringMap(map: unknown, field: string, name: string): asserts map is Record<string, string> {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `secret ${name}: ${field} must be an object`, { entry: name });
  }
  for (const [key, value] of Object.entries(map)) {
    if (typeof value !== 'string') {
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `secret ${name}: ${field}.${key} must be a string`, {
        entry: name,
      });
    }
  }
}
