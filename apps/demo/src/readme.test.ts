import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');

describe('README examples', () => {
  it('shows docs/examples/quick-start.ts verbatim, so the sample cannot drift from compiled code', () => {
    const example = readFileSync(new URL('docs/examples/quick-start.ts', root), 'utf8').trim();
    expect(readme).toContain(example);
  });

  it('shows docs/examples/messaging.ts verbatim', () => {
    const example = readFileSync(new URL('docs/examples/messaging.ts', root), 'utf8').trim();
    expect(readme).toContain(example);
  });

  it('runs the messaging example: the event reaches the other service once', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../../../docs/examples/messaging.ts');
    expect(log).toHaveBeenCalledWith([{ order_id: 'order-1', cents: 4200 }]);
    log.mockRestore();
  });

  it('shows docs/examples/saga.ts verbatim', () => {
    const example = readFileSync(new URL('docs/examples/saga.ts', root), 'utf8').trim();
    expect(readme).toContain(example);
  });

  it('runs the saga example: the declined payment compensates the reservation', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../../../docs/examples/saga.ts');
    expect(log).toHaveBeenCalledWith('compensated', [
      'reserveInventory: compensated',
      'processPayment: failed',
    ]);
    log.mockRestore();
  });

  it('runs the quick start and reads its own write', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import('../../../docs/examples/quick-start.ts');
    expect(log).toHaveBeenCalledWith({ items: 2 });
    log.mockRestore();
  });
});
