/** The numbers at the end of a load run: throughput, latency percentiles, outcomes per token. */
import { expectedStatus, type PaymentToken, paymentTokens } from './order-mix.ts';

/**
 * CONFIRMED / CANCELLED: final status seen. STUCK: still PENDING when the client stopped waiting.
 * FAILED: the order could not be placed (or followed) at all.
 */
export type Outcome = 'CONFIRMED' | 'CANCELLED' | 'STUCK' | 'FAILED';
const outcomes: readonly Outcome[] = ['CONFIRMED', 'CANCELLED', 'STUCK', 'FAILED'];

export interface OrderResult {
  token: PaymentToken;
  outcome: Outcome;
  /**
   * Only for CONFIRMED / CANCELLED: closedAt - placedAt as the orders service stamped them, or
   * (a shop without the stamps) from the first POST /orders to seeing the final status.
   */
  latencyMs?: number;
  /** The orders service's stamps, epoch milliseconds. */
  placedAtMs?: number;
  closedAtMs?: number;
  /** cancelReason, or what went wrong for STUCK / FAILED. */
  reason?: string;
}

/** Nearest-rank percentile of sorted values; undefined when there are none. */
export function percentile(sorted: readonly number[], fraction: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

const latenciesOf = (results: readonly OrderResult[]) =>
  results
    .map((result) => result.latencyMs)
    .filter((ms): ms is number => ms !== undefined)
    .sort((a, b) => a - b);

/** An order whose final status breaks the contract for its token (or that never got one). */
export function isUnexpected(result: OrderResult): boolean {
  return result.outcome !== expectedStatus[result.token];
}

export function loadReport(
  results: readonly OrderResult[],
  elapsedMs: number,
  concurrency: number,
): string[] {
  const finished = results.filter((result) => result.latencyMs !== undefined);
  const latencies = latenciesOf(results);
  const seconds = elapsedMs / 1000;
  const lines = [
    `${results.length} orders with ${concurrency} clients in ${seconds.toFixed(1)} s: ` +
      `${(finished.length / seconds).toFixed(1)} orders/s reached CONFIRMED or CANCELLED`,
    `Latency, placed to CONFIRMED or CANCELLED: p50 ${formatMs(percentile(latencies, 0.5))}  ` +
      `p95 ${formatMs(percentile(latencies, 0.95))}  p99 ${formatMs(percentile(latencies, 0.99))}  ` +
      `max ${formatMs(latencies.at(-1))}`,
    '',
    `  ${'token'.padEnd(14)}${['orders', ...outcomes, 'p50', 'p95'].map((title) => title.padStart(11)).join('')}`,
  ];
  for (const token of paymentTokens) {
    const ofToken = results.filter((result) => result.token === token);
    if (ofToken.length === 0) continue;
    const counts = outcomes.map((outcome) => ofToken.filter((result) => result.outcome === outcome).length);
    const tokenLatencies = latenciesOf(ofToken);
    const cells = [
      ofToken.length,
      ...counts,
      formatMs(percentile(tokenLatencies, 0.5)),
      formatMs(percentile(tokenLatencies, 0.95)),
    ];
    lines.push(`  ${token.padEnd(14)}${cells.map((cell) => String(cell).padStart(11)).join('')}`);
  }
  const unexpected = results.filter(isUnexpected);
  if (unexpected.length > 0) {
    lines.push('', `${unexpected.length} orders did not end as the contract says:`);
    const kinds = new Map<string, number>();
    for (const result of unexpected) {
      const kind = `${result.token} expected ${expectedStatus[result.token]}, got ${result.outcome}${result.reason ? ` (${result.reason})` : ''}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    const sorted = [...kinds].sort((a, b) => b[1] - a[1]);
    for (const [kind, count] of sorted.slice(0, 10)) lines.push(`  ${String(count).padStart(5)} x ${kind}`);
    if (sorted.length > 10) lines.push(`  ... and ${sorted.length - 10} other kinds`);
  }
  return lines;
}
