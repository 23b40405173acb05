import cliProgress from 'cli-progress';

/** A progress bar on stderr, so stdout keeps only results; silent when stderr is not a terminal. */
export interface Progress {
  update(value: number): void;
  stop(): void;
}

export function startProgress(label: string, total: number, unit = ''): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label.padEnd(34)} [{bar}] {value}/{total}${unit} {duration_formatted}`,
      clearOnComplete: true,
      hideCursor: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(Math.max(1, Math.round(total)), 0);
  return {
    update: (value) => bar.update(Math.min(Math.round(value), bar.getTotal())),
    stop: () => bar.stop(),
  };
}

/** One line on stderr between bars (what phase starts, how big the seed is). */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}
