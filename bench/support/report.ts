/** A goal from the issue: on the ratio to the baseline, or on the value itself. */
export interface Target {
  readonly on: 'ratio' | 'value';
  readonly atLeast?: number;
  readonly atMost?: number;
}

/** One measured number and what it is compared with; `ratio` is always value / baseline. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline: number;
  readonly baselineLabel: string;
  readonly target?: Target;
}

export function figure(options: Figure): Figure {
  return options;
}

export function ratioOf(item: Figure): number {
  return item.value / item.baseline;
}

function describeTarget(item: Figure): string {
  const { target } = item;
  if (!target) return '';
  const bound = target.atLeast !== undefined ? `>= ${target.atLeast}` : `<= ${target.atMost}`;
  const subject = target.on === 'ratio' ? ratioOf(item) : item.value;
  const met =
    (target.atLeast === undefined || subject >= target.atLeast) &&
    (target.atMost === undefined || subject <= target.atMost);
  return `${target.on === 'ratio' ? 'ratio' : 'value'} ${bound}: ${met ? 'met' : 'MISSED'}`;
}

function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  if (Math.abs(value) >= 100) return Math.round(value);
  return Number(value.toPrecision(3));
}

function formatNumber(value: number): string {
  const rounded = round(value);
  return Math.abs(rounded) >= 1000 ? rounded.toLocaleString('en-US') : String(rounded);
}

/** The human table, then one JSON line per figure, on stdout. */
export function printFigures(figures: readonly Figure[]): void {
  const header = ['name', 'value', 'unit', 'baseline', 'ratio', 'baseline is', 'target'];
  const rows = figures.map((item) => [
    item.name,
    formatNumber(item.value),
    item.unit,
    formatNumber(item.baseline),
    `${ratioOf(item).toFixed(2)}x`,
    item.baselineLabel,
    describeTarget(item),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column >= 1 && column <= 4 && column !== 2
          ? cell.padStart(widths[column]!)
          : cell.padEnd(widths[column]!),
      )
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log(
    'ratio = value / baseline for every figure: higher is better for events/s, lower is better for ms.\n',
  );
  for (const item of figures) {
    console.log(
      JSON.stringify({
        name: item.name,
        value: round(item.value),
        unit: item.unit,
        baseline: round(item.baseline),
        ratio: round(ratioOf(item)),
      }),
    );
  }
}
