import { type Codec, CodecError, checkCodecOptions, checkRange } from './codec.ts';

export interface NumberCodecOptions {
  /** Smallest accepted value (inclusive). Default: none. */
  min?: number;
  /** Largest accepted value (inclusive). Default: none. */
  max?: number;
}

const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A safe integer written in plain digits ("12abc", "1e3" and 2^53+1 are refused). */
export function int(options: NumberCodecOptions = {}): Codec<number> {
  checkCodecOptions('t.int()', options, { min: 'number', max: 'number' });
  return {
    kind: 'int',
    decode(text) {
      if (!INT.test(text)) throw new CodecError('is not an integer (digits with an optional sign)');
      const n = Number(text);
      if (!Number.isSafeInteger(n)) throw new CodecError('is outside the safe integer range');
      checkRange(n, options.min, options.max);
      return n;
    },
  };
}

/** A finite binary float ("NaN", "Infinity" and overflow like "1e309" are refused). Not for money: use decimal. */
export function float(options: NumberCodecOptions = {}): Codec<number> {
  checkCodecOptions('t.float()', options, { min: 'number', max: 'number' });
  return {
    kind: 'float',
    decode(text) {
      if (!FLOAT.test(text)) throw new CodecError('is not a decimal number');
      const n = Number(text);
      if (!Number.isFinite(n)) throw new CodecError('is not finite');
      checkRange(n, options.min, options.max);
      return n;
    },
  };
}
