/**
 * How a run shows its progress on stderr: a cli-progress bar on a terminal, one plain line per
 * model otherwise (CI logs, pipes), so stdout keeps only the report.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { RunProgress } from '../models/run-execution.ts';

/** Fed by the runner's `onProgress`; `stop` before writing anything else to the stream. */
export interface ProgressDisplay {
  update(progress: RunProgress): void;
  stop(): void;
}

export interface ProgressDisplayOptions {
  /** The selected models in build order: the total, and the model being built next. */
  models: readonly string[];
  stream: NodeJS.WriteStream;
}

/** A bar when `stream` is a TTY, else plain lines. */
export function createProgressDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  return options.stream.isTTY ? createProgressBar(options) : createProgressLines(options);
}

function createProgressBar({ models, stream }: ProgressDisplayOptions): ProgressDisplay {
  const bar = new SingleBar(
    { format: 'models [{bar}] {value}/{total} | {current}', stream, clearOnComplete: false },
    Presets.shades_classic,
  );
  bar.start(models.length, 0, { current: building(models, 0) });
  return {
    update(progress) {
      const next = building(models, progress.done);
      const current = `${progress.model} ${progress.status}${next === '' ? '' : `, ${next}`}`;
      bar.update(progress.done, { current });
    },
    stop: () => bar.stop(),
  };
}

function createProgressLines({ models, stream }: ProgressDisplayOptions): ProgressDisplay {
  const width = String(models.length).length;
  return {
    update(progress) {
      stream.write(
        `[${String(progress.done).padStart(width)}/${progress.total}] ${progress.model} ${progress.status}\n`,
      );
    },
    stop() {},
  };
}

function building(models: readonly string[], done: number): string {
  const next = models[done];
  return next === undefined ? '' : `building ${next}`;
}
