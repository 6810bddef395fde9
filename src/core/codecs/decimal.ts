import Big from 'big.js';
import { type Codec, CodecError, checkCodecOptions, checkRange } from './codec.ts';

export type Decimal = Big;

export interface DecimalCodecOptions {
  /** Smallest accepted value (inclusive). Default: none. */
  min?: number;
  /** Largest accepted value (inclusive). Default: none. */
  max?: number;
  /** Most digits after the point. Default: none. */
  maxScale?: number;
}

const PLAIN_DECIMAL = /^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$/;

/**
 * An exact decimal (big.js) for money and fees: "0.30000000000000004" stays exactly that.
 * Only plain notation is accepted ("0.1.2", "1e3", "NaN" are refused).
 */
export function decimal(options: DecimalCodecOptions = {}): Codec<Decimal> {
  checkCodecOptions('t.decimal()', options, { min: 'number', max: 'number', maxScale: 'number' });
  return {
    kind: 'decimal',
    decode(text) {
      if (!PLAIN_DECIMAL.test(text)) throw new CodecError('is not a plain decimal number');
      const value = new Big(text);
      const scale = Math.max(0, value.c.length - value.e - 1);
      if (options.maxScale !== undefined && scale > options.maxScale) {
        throw new CodecError(`has more than ${options.maxScale} digits after the point`);
      }
      checkRange(value, options.min, options.max);
      return Object.freeze(value);
    },
  };
}
