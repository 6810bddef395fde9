// Secret<T>: a value that never converts to its content by accident.
import { reveal, Secret } from 'keyshift';
import { type Equal, expectType, value } from './_expect.ts';

const key = new Secret('sk_live_0123');
expectType<Equal<typeof key, Secret<string>>>();
expectType<Equal<ReturnType<typeof key.reveal>, string>>();

const port = new Secret(5432);
expectType<Equal<ReturnType<typeof port.reveal>, number>>();
// reveal() takes a Secret or a plain value and gives the value's type.
expectType<Equal<ReturnType<typeof reveal<number>>, number>>();
const revealed = reveal(value<Secret<{ user: string }>>());
expectType<Equal<typeof revealed, { user: string }>>();
const plain = reveal(value<string>());
expectType<Equal<typeof plain, string>>();

// @ts-expect-error a Secret<string> is not a string
const leaked: string = key;
void leaked;
// @ts-expect-error a Secret<number> is not a Secret<string>
const mixed: Secret<string> = port;
void mixed;
// @ts-expect-error no property holds the value
void key.value;

if (Secret.isSecret(value<unknown>())) {
  // isSecret narrows to Secret<unknown>
}
