/**
 * A generated random secret: admin tokens, webhook and IPN secrets, anything the
 * application itself checks. Characters are drawn without bias (rejection sampling)
 * from a CSPRNG.
 *
 *   runner.run('ADMIN_API_TOKEN', randomSecret({ length: 48 }));
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_RANDOM_SECRET_LENGTH } from '../../../constants.ts';
import { ErrorCodes, KeyshiftError } from '../../../errors.ts';
import type { PendingContext, Rotator } from '../rotator.ts';

/** Named alphabets; every one is safe in URLs, headers and shell words. */
export const ALPHABETS = {
  base64url: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  alphanumeric: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  hex: '0123456789abcdef',
} as const;

export type AlphabetName = keyof typeof ALPHABETS;

export interface RandomSecretOptions {
  /** Characters drawn (the prefix not counted). Default 32 (DEFAULT_RANDOM_SECRET_LENGTH). */
  length?: number;
  /** A named alphabet, or the characters to draw from (2 to 256 distinct ASCII characters). Default 'base64url'. */
  alphabet?: AlphabetName | (string & {});
  /** Prepended to every value, such as 'whsec_'. Default ''. */
  prefix?: string;
  /** Makes the new value accepted where it is checked (registers it with a webhook sender). Default: nothing. */
  set?: (value: string, ctx: PendingContext) => Promise<void>;
  /** Proves the new value works before it is served. Default: nothing. */
  test?: (value: string, ctx: PendingContext) => Promise<void>;
}

function invalid(message: string): KeyshiftError {
  return new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `randomSecret(): ${message}`);
}

function alphabetOf(option: RandomSecretOptions['alphabet']): string {
  const chars = option === undefined ? ALPHABETS.base64url : (ALPHABETS[option as AlphabetName] ?? option);
  if (!/^[\x21-\x7e]{2,256}$/.test(chars) || new Set(chars).size !== chars.length) {
    throw invalid('alphabet must be a named alphabet or 2 to 256 distinct printable ASCII characters');
  }
  return chars;
}

/** `length` characters of `alphabet`, each uniformly drawn: bytes at or above the largest multiple of its size are redrawn. */
export function randomString(length: number, alphabet: string): string {
  const size = alphabet.length;
  const limit = 256 - (256 % size);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(Math.ceil((length - out.length) * 1.3) + 8)) {
      if (byte >= limit) continue;
      out += alphabet[byte % size];
      if (out.length === length) break;
    }
  }
  return out;
}

export function randomSecret(options: RandomSecretOptions = {}): Rotator {
  const length = options.length ?? DEFAULT_RANDOM_SECRET_LENGTH;
  if (!Number.isSafeInteger(length) || length < 16 || length > 4096) throw invalid('length must be an integer from 16 to 4096');
  const alphabet = alphabetOf(options.alphabet);
  const prefix = options.prefix ?? '';
  const { set, test } = options;
  return {
    kind: 'random-secret',
    create: async () => `${prefix}${randomString(length, alphabet)}`,
    ...(set === undefined ? {} : { set: (ctx: PendingContext) => set(ctx.pending.text(), ctx) }),
    ...(test === undefined ? {} : { test: (ctx: PendingContext) => test(ctx.pending.text(), ctx) }),
  };
}
