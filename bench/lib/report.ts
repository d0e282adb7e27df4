/**
 * Every benchmark prints its figures the same way: a table for people and one JSON line for machines
 * (`BENCH {"bench":"…","figures":{…}}`), so `npm run bench` output can be collected and compared.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Ratio against a baseline measured in the same run, when there is one. */
  ratio?: number | undefined;
  baseline?: string | undefined;
  target?: string | undefined;
}

export function report(bench: string, figures: Figure[]): void {
  const rows = figures.map((f) => ({
    figure: f.name,
    value: Number.isInteger(f.value) ? f.value : Number(f.value.toPrecision(4)),
    unit: f.unit,
    ratio: f.ratio === undefined ? '' : f.ratio.toFixed(3),
    baseline: f.baseline ?? '',
    target: f.target ?? '',
  }));
  console.log(`\n== ${bench} ==`);
  console.table(rows);
  console.log('BENCH ' + JSON.stringify({ bench, at: new Date().toISOString(), figures }));
}

/** Percentile of a list of numbers (sorted copy). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
