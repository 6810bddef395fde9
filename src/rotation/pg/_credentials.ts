import type { EntryInfo } from '../../core/define-secrets.ts';
import { reveal } from '../../core/redacted.ts';
import { ErrorCodes, KeyshiftError } from '../../errors.ts';
import { entryOf, type RotationHost, versionsOf } from '../_host.ts';
import type { GenerationCredentials } from './_pool-generation.ts';

const OWNER = 'createRotatingPool()';

/** Where a pool's user and password come from, checked once at creation. */
export interface CredentialEntries {
  /** The user entry, or undefined for a fixed role name (or pg's default). */
  readonly user: EntryInfo | undefined;
  readonly fixedUser: string | undefined;
  readonly password: EntryInfo;
  /** The dynamic entries whose changes start a swap. */
  readonly watched: readonly string[];
}

function invalid(message: string, entry?: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${OWNER}: ${message}`, entry === undefined ? {} : { entry });
}

/** Resolves and checks the user and password options against the declaration. */
export function credentialEntries(
  host: RotationHost,
  user: string | undefined,
  password: string,
  strategy: 'single-user' | 'alternating-users',
): CredentialEntries {
  const passwordEntry = entryOf(host, password, OWNER);
  if (passwordEntry.rotation !== 'pg-pool' || passwordEntry.kind !== 'dynamic') {
    throw invalid(`entry ${password} must be declared with rotation: 'pg-pool' (and not static) to be rotated by the pool`, password);
  }
  const userEntry = user === undefined ? undefined : host.entries.find((e) => e.name === user);
  if (strategy === 'alternating-users' && userEntry?.kind !== 'dynamic') {
    throw invalid('the alternating-users strategy needs options.user to name a dynamic entry: the role switches with the password');
  }
  const watched = [passwordEntry, userEntry].filter((e): e is EntryInfo => e?.kind === 'dynamic').map((e) => e.name);
  return { user: userEntry, fixedUser: userEntry ? undefined : user, password: passwordEntry, watched };
}

/**
 * The current user and password, read from ONE snapshot of the manager so a pool
 * never pairs one version's user with another's password. The password stays
 * wrapped: pg gets a callback that reveals it at connect time.
 */
export function readCredentials(host: RotationHost, entries: CredentialEntries): GenerationCredentials {
  const view = host.snapshot();
  const read = (entry: EntryInfo): unknown => (entry.kind === 'static' ? host.static[entry.name] : view.get(entry.name));
  const userValue = entries.user ? read(entries.user) : entries.fixedUser;
  const passwordValue = read(entries.password);
  const versions = versionsOf(host, entries.watched);
  const user = userValue === undefined || userValue === null ? undefined : String(reveal(userValue));
  return {
    user,
    password: () => String(reveal(passwordValue)),
    identity: [userValue, passwordValue],
    userVersion: entries.user ? versions.get(entries.user.name) : undefined,
    passwordVersion: versions.get(entries.password.name),
  };
}

/** Same values (by identity: each new version decodes to a new value). */
export function sameCredentials(a: GenerationCredentials, b: GenerationCredentials): boolean {
  return a.identity.length === b.identity.length && a.identity.every((value, i) => Object.is(value, b.identity[i]));
}
