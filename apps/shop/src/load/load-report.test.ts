import { describe, expect, it } from 'vitest';
import { formatMs, loadReport, percentile } from './load-report.ts';
import { paymentTokenMix } from './order-mix.ts';

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect([0.5, 0.95, 0.99, 1].map((fraction) => percentile(values, fraction))).toEqual([50, 95, 99, 100]);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeUndefined();
  });

  it('formats milliseconds and seconds', () => {
    expect([formatMs(12.4), formatMs(2345), formatMs(undefined)]).toEqual(['12 ms', '2.35 s', '-']);
  });
});

describe('paymentTokenMix', () => {
  it('is mostly tok_visa with exact shares of the others', () => {
    const tokens = paymentTokenMix(200, false);
    const count = (token: string) => tokens.filter((each) => each === token).length;
    expect(tokens).toHaveLength(200);
    expect([count('tok_visa'), count('tok_declined'), count('tok_flaky'), count('tok_timeout')]).toEqual([
      160, 20, 20, 0,
    ]);
  });

  it('adds a few tok_timeout only when asked, at least one', () => {
    expect(paymentTokenMix(200, true).filter((token) => token === 'tok_timeout')).toHaveLength(4);
    expect(paymentTokenMix(3, true).filter((token) => token === 'tok_timeout')).toHaveLength(1);
    expect(paymentTokenMix(1, false)).toEqual(['tok_visa']);
  });
});

describe('loadReport', () => {
  it('reports throughput, latency and outcomes per token, and flags outcomes against the contract', () => {
    const lines = loadReport(
      [
        { token: 'tok_visa', outcome: 'CONFIRMED', latencyMs: 100 },
        { token: 'tok_visa', outcome: 'CONFIRMED', latencyMs: 300 },
        { token: 'tok_declined', outcome: 'CONFIRMED', latencyMs: 200 },
        { token: 'tok_flaky', outcome: 'FAILED', reason: 'POST /orders answered 500' },
      ],
      2000,
      4,
    );
    const text = lines.join('\n');
    expect(lines[0]).toBe('4 orders with 4 clients in 2.0 s: 1.5 orders/s reached CONFIRMED or CANCELLED');
    expect(lines[1]).toContain('p50 200 ms  p95 300 ms  p99 300 ms');
    expect(text).toMatch(/tok_visa\s+2\s+2\s+0\s+0\s+0\s+100 ms\s+300 ms/);
    expect(text).toContain('2 orders did not end as the contract says');
    expect(text).toContain('1 x tok_declined expected CANCELLED, got CONFIRMED');
    expect(text).toContain('1 x tok_flaky expected CONFIRMED, got FAILED (POST /orders answered 500)');
  });
});
