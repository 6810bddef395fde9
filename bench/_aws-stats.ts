/** Small numeric and formatting helpers for bench/aws.ts, over bench/_measure.ts. */
import { percentile } from './_measure.ts';

/** The p-th percentile, p in 0..100 (bench/_measure.ts takes 0..1). */
export function pct(samples: readonly number[], p: number): number {
  return percentile(samples, p / 100);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

export function ns(value: number): string {
  return value >= 100 ? `${Math.round(value).toLocaleString('en-US')} ns` : `${value.toFixed(1)} ns`;
}

export function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MB`;
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

export function sleep(msToWait: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, msToWait));
}

/** Times `fn` once, in ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}
