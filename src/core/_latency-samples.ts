import { LATENCY_SAMPLES } from '../constants.ts';

/**
 * The fetch-duration samples of every entry of one manager, in one typed array:
 * LATENCY_SAMPLES per entry, a ring each, plus a count per entry. One buffer per
 * manager instead of a Float32Array per entry (each typed array costs about 200 B of
 * heap besides its samples).
 */
export class LatencySamples {
  #samples: Float32Array;
  #counts: Uint32Array;
  #slots = 0;

  /** `capacity`: the slots expected (a manager knows its entries), so the buffer is not grown (by doubling) past them. */
  constructor(capacity = 0) {
    this.#samples = new Float32Array(capacity * LATENCY_SAMPLES);
    this.#counts = new Uint32Array(capacity);
  }

  /** A slot for one more entry. */
  add(): number {
    const slot = this.#slots++;
    if (slot >= this.#counts.length) {
      const size = Math.max(8, this.#counts.length * 2);
      const samples = new Float32Array(size * LATENCY_SAMPLES);
      samples.set(this.#samples);
      const counts = new Uint32Array(size);
      counts.set(this.#counts);
      this.#samples = samples;
      this.#counts = counts;
    }
    return slot;
  }

  record(slot: number, ms: number): void {
    const count = this.#counts[slot] ?? 0;
    this.#samples[slot * LATENCY_SAMPLES + (count % LATENCY_SAMPLES)] = ms;
    // wraps at 2^32 to a multiple of LATENCY_SAMPLES, so the ring stays full
    this.#counts[slot] = count + 1 >= 2 ** 32 ? LATENCY_SAMPLES : count + 1;
  }

  /** The p-th percentile (0..1) of the slot's last LATENCY_SAMPLES samples, or undefined. */
  percentile(slot: number, p: number): number | undefined {
    const n = Math.min(this.#counts[slot] ?? 0, LATENCY_SAMPLES);
    if (n === 0) return undefined;
    const start = slot * LATENCY_SAMPLES;
    const sorted = Array.from(this.#samples.subarray(start, start + n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.ceil(p * n) - 1)];
  }
}
