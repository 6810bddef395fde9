// A source's options, checked when it is made: a typo (`prefx`, `directory`) or a wrong
// type is a KS_ERR_INVALID_DECLARATION naming the source and the option, never a
// default taken silently (reading the wrong directory or variables).
import { ErrorCodes, KeyshiftError } from '../errors.ts';

type Kind = 'string' | 'boolean' | 'function' | 'object' | 'ms' | 'bytes' | 'version';
const WANTS: Record<Kind, string> = {
  string: 'a string',
  boolean: 'true or false',
  function: 'a function',
  object: 'an object',
  ms: 'a number of 0 or more',
  bytes: 'a string or a Uint8Array',
  version: 'a string, a number or a function',
};

function fits(value: unknown, kind: Kind): boolean {
  if (kind === 'version') return typeof value === 'string' || typeof value === 'number' || typeof value === 'function';
  if (kind === 'bytes') return typeof value === 'string' || value instanceof Uint8Array;
  if (kind === 'ms') return typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (kind === 'object') return typeof value === 'object' && value !== null;
  return typeof value === kind;
}

/** One kind for every option of `O`: a field added to the options type and not here is a type error. */
export type OptionKinds<O> = { readonly [K in keyof Required<O>]: Kind };

/** Throws when `options` has a field not in `fields`, or one of the wrong kind. `undefined` fields are defaults. */
export function checkSourceOptions<O>(owner: string, options: O | undefined, fields: OptionKinds<O>): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${owner}: options must be an object`);
  }
  const known = Object.keys(fields);
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(fields, key));
  if (unknown.length > 0) {
    const listed = unknown.map((key) => JSON.stringify(key)).join(', ');
    throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${owner}: unknown option ${listed} (the options are ${known.join(', ')})`);
  }
  for (const [key, kind] of Object.entries<Kind>(fields)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && !fits(value, kind)) {
      throw new KeyshiftError(ErrorCodes.INVALID_DECLARATION, `${owner}: option ${key} must be ${WANTS[kind]}`);
    }
  }
}
