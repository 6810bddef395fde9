import { type Codec, CodecError } from './codec.ts';

/** Exactly "true"/"false" (or "1"/"0"); "yes", "TRUE " and the like are refused, not guessed. */
export function bool(): Codec<boolean> {
  return {
    kind: 'bool',
    decode(text) {
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      throw new CodecError('is not a boolean (true, false, 1 or 0)');
    },
  };
}
