import { type Codec, CodecError, checkCodecOptions } from './codec.ts';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

export interface DurationCodecOptions {
  /** Unit of a bare number ("24" with unit 'h' is a day). Default 'ms'. */
  unit?: DurationUnit;
  /** Smallest accepted duration in ms. Default 0. */
  minMs?: number;
  /** Largest accepted duration in ms. Default: none. */
  maxMs?: number;
}

const BARE = /^\d+(?:\.\d+)?$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const COMPOUND = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** A duration, returned in milliseconds: "250ms", "90s", "1h30m", or a bare number in `unit`. Negative is refused. */
export function duration(options: DurationCodecOptions = {}): Codec<number> {
  checkCodecOptions('t.duration()', options, { unit: 'unit', minMs: 'number', maxMs: 'number' }, Object.keys(UNIT_MS));
  const unit = options.unit ?? 'ms';
  const minMs = options.minMs ?? 0;
  return {
    kind: 'duration',
    decode(text) {
      let ms: number;
      if (BARE.test(text)) ms = Number(text) * UNIT_MS[unit];
      else if (COMPOUND.test(text)) {
        ms = 0;
        for (const [, n, u] of text.matchAll(PART)) ms += Number(n) * UNIT_MS[u as DurationUnit];
      } else throw new CodecError('is not a duration (such as 250ms, 90s, 1h30m, or a bare number)');
      if (!Number.isFinite(ms)) throw new CodecError('is not finite');
      if (ms < minMs) throw new CodecError(`is shorter than ${minMs} ms`);
      if (options.maxMs !== undefined && ms > options.maxMs) throw new CodecError(`is longer than ${options.maxMs} ms`);
      return ms;
    },
  };
}
