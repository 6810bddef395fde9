// Every codec's value type, and json() with a Standard Schema library's inferred type.
import { type Codec, type Decimal, t } from 'keyshift';
import * as v from 'valibot';
import { z } from 'zod';
import { type Equal, expectType } from './_expect.ts';

type Of<C> = C extends Codec<infer T> ? T : never;

expectType<Equal<Of<ReturnType<typeof t.string>>, string>>();
expectType<Equal<Of<ReturnType<typeof t.int>>, number>>();
expectType<Equal<Of<ReturnType<typeof t.float>>, number>>();
expectType<Equal<Of<ReturnType<typeof t.decimal>>, Decimal>>();
expectType<Equal<Of<ReturnType<typeof t.bool>>, boolean>>();
expectType<Equal<Of<ReturnType<typeof t.url>>, string>>();
expectType<Equal<Of<ReturnType<typeof t.duration>>, number>>();

const anyJson = t.json();
expectType<Equal<Of<typeof anyJson>, unknown>>();
const zodJson = t.json(z.object({ host: z.string(), port: z.number().int() }));
expectType<Equal<Of<typeof zodJson>, { host: string; port: number }>>();
const valibotJson = t.json(v.object({ ids: v.array(v.string()) }));
expectType<Equal<Of<typeof valibotJson>, { ids: string[] }>>();

const network = t.oneOf(['mainnet', 'testnet']);
expectType<Equal<Of<typeof network>, 'mainnet' | 'testnet'>>();
// @ts-expect-error oneOf needs at least one value
t.oneOf([]);

// Options are checked.
t.int({ min: 1, max: 10 });
// @ts-expect-error min is a number
t.int({ min: '1' });
t.duration({ unit: 's' });
// @ts-expect-error an unknown unit
t.duration({ unit: 'fortnight' });
