/**
 * The soak's verdict: does throughput hold as history grows? Orders are cut, in the order they
 * finished, into windows of equal size; each window's rate is its size over the time since the
 * previous window ended. History-flat means the last window runs within 10% of the first.
 */
import { formatMs, percentile } from './load-report.ts';

export interface FinishedOrder {
  /** When the final status was seen, in ms from the start of the run. */
  finishedAtMs: number;
  latencyMs: number;
}

export interface SoakWindow {
  /** 1-based numbers of the first and last order of the window, in finishing order. */
  first: number;
  last: number;
  ordersPerSecond: number;
  p50Ms: number;
}

/** The allowed drop from the first window to the last. */
export const flatTolerance = 0.1;

/** Windows of `size` orders (a shorter remainder is left out: its rate would not compare). */
export function soakWindows(finished: readonly FinishedOrder[], size: number): SoakWindow[] {
  const sorted = [...finished].sort((a, b) => a.finishedAtMs - b.finishedAtMs);
  const windows: SoakWindow[] = [];
  let previousEnd = 0;
  for (let start = 0; start + size <= sorted.length; start += size) {
    const slice = sorted.slice(start, start + size);
    const end = slice.at(-1)!.finishedAtMs;
    windows.push({
      first: start + 1,
      last: start + size,
      ordersPerSecond: size / (Math.max(1, end - previousEnd) / 1000),
      p50Ms: percentile(
        slice.map((order) => order.latencyMs).sort((a, b) => a - b),
        0.5,
      )!,
    });
    previousEnd = end;
  }
  return windows;
}

/** A window size that gives at least five windows, at most 1,000 orders each. */
export const soakWindowSize = (orders: number) => Math.max(1, Math.min(1_000, Math.floor(orders / 5)));

export function soakReport(windows: readonly SoakWindow[]): string[] {
  if (windows.length < 2) return ['Soak: too few orders finished to compare windows.'];
  const lines = ['', `Soak, one product: orders/s per ${windows[0]!.last} orders, in finishing order`];
  for (const window of windows) {
    lines.push(
      `  ${`${window.first}-${window.last}`.padStart(13)}  ${window.ordersPerSecond.toFixed(1).padStart(7)} orders/s  p50 ${formatMs(window.p50Ms)}`,
    );
  }
  const ratio = windows.at(-1)!.ordersPerSecond / windows[0]!.ordersPerSecond;
  const flat = ratio >= 1 - flatTolerance;
  lines.push(
    `Last window / first: ${ratio.toFixed(2)}x (${flat ? 'flat' : 'NOT flat'}: history-flat means >= ${(1 - flatTolerance).toFixed(2)}x)`,
  );
  return lines;
}
