// Type assertions checked by the compiler: `expectType<Equal<A, B>>()` compiles only
// when A and B are the same type (not merely assignable); `// @ts-expect-error` lines
// compile only while the line below them is an error. The files of test/types are
// type-checked by `tsc -p tsconfig.json` (npm run check) and by test/types.test.ts.

/** True when A and B are identical types. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only for `true`. */
export function expectType<_ extends true>(): void {}

/** A value of type T for type-level checks (never called at run time). */
export declare function value<T>(): T;
