/** Small, dependency-free measuring helpers shared by the bench scripts. */

/** ns per call of `fn`, median of `rounds` rounds of `n` calls each (after a warm-up round). */
export function nsPerOp(fn: () => unknown, n: number, rounds = 7): number {
  let sink: unknown;
  for (let i = 0; i < n / 10; i++) sink = fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink = fn();
    samples.push(Number(process.hrtime.bigint() - start) / n);
  }
  if (sink === Symbol.for('never')) console.log(sink);
  return percentile(samples, 0.5);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

/** A markdown table from a header row and rows. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
