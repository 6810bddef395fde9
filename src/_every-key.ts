/**
 * One `true` for every field of T, optional ones included: listing the fields an options
 * check accepts as an `EveryKey<TheOptions>` makes a field added to the options type and
 * not listed a type error, and a listed field the type lacks one too.
 */
export type EveryKey<T> = { readonly [K in keyof Required<T>]: true };
