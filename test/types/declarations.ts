// Declaration inference: what defineSecrets() keeps of each entry's type, and what a
// read of it returns (ValueOf), static and dynamic keys.
import type { Decimal } from 'keyshift';
import { type DynamicKeys, defineSecrets, type Secret, type StaticKeys, type StaticValues, t, type ValueOf } from 'keyshift';
import { type Equal, expectType } from './_expect.ts';

const secrets = defineSecrets({
  API_KEY: { type: t.string(), category: 'api-key' },
  PLAIN_FLAG: { type: t.bool() },
  FEE: { type: t.decimal(), static: true },
  PORT: { type: t.int(), static: true, optional: true },
  NOT_SECRET_KEY: { type: t.string(), category: 'api-key', secret: false },
  WRAPPED_URL: { type: t.url(), secret: true },
  MAYBE: { type: t.string(), optional: true },
  SIGNING: { type: t.string(), category: 'signing-key', optional: true },
});
type D = typeof secrets;

// defineSecrets keeps the literal declaration (const type parameter).
expectType<Equal<D['FEE']['static'], true>>();
expectType<Equal<D['API_KEY']['category'], 'api-key'>>();

// Keys split by `static: true`.
expectType<Equal<StaticKeys<D>, 'FEE' | 'PORT'>>();
expectType<Equal<DynamicKeys<D>, 'API_KEY' | 'PLAIN_FLAG' | 'NOT_SECRET_KEY' | 'WRAPPED_URL' | 'MAYBE' | 'SIGNING'>>();

// A secret category wraps in Secret<T>, `secret: false` unwraps it, `secret: true` wraps anything.
expectType<Equal<ValueOf<D['API_KEY']>, Secret<string>>>();
expectType<Equal<ValueOf<D['NOT_SECRET_KEY']>, string>>();
expectType<Equal<ValueOf<D['WRAPPED_URL']>, Secret<string>>>();
expectType<Equal<ValueOf<D['PLAIN_FLAG']>, boolean>>();
// `optional: true` adds null, outside the Secret.
expectType<Equal<ValueOf<D['MAYBE']>, string | null>>();
expectType<Equal<ValueOf<D['SIGNING']>, Secret<string> | null>>();

// Static values are readonly properties of their own types.
expectType<Equal<StaticValues<D>, { readonly FEE: Decimal; readonly PORT: number | null }>>();

// A declaration that is not a codec does not compile.
// @ts-expect-error type must be a codec
defineSecrets({ BAD: { type: 'string' } });
// @ts-expect-error unknown category
defineSecrets({ BAD: { type: t.string(), category: 'password' } });
// @ts-expect-error onStale is one of two words
defineSecrets({ BAD: { type: t.string(), onStale: 'ignore' } });
