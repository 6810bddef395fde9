import { bool } from './bool.ts';
import { decimal } from './decimal.ts';
import { duration } from './duration.ts';
import { json } from './json.ts';
import { float, int } from './number.ts';
import { oneOf, string } from './string.ts';
import { url } from './url.ts';

export type { Codec } from './codec.ts';
export { CodecError } from './codec.ts';
export type { Decimal, DecimalCodecOptions } from './decimal.ts';
export type { DurationCodecOptions, DurationUnit } from './duration.ts';
export type { NumberCodecOptions } from './number.ts';
export type { StringCodecOptions } from './string.ts';
export type { UrlCodecOptions } from './url.ts';

/** The value types an entry can have: `t.string()`, `t.decimal()`, `t.json(schema)`... */
export const t = { string, int, float, decimal, bool, url, duration, json, oneOf } as const;
