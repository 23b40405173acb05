/** Bronze changes for tests: one per position, ids derived from source and position. */
import type { BronzeChange } from '../bronze-change.ts';

export function changeAt(position: bigint, overrides: Partial<BronzeChange> = {}): BronzeChange {
  const source = overrides.source ?? 'orders';
  return {
    id: `${source}:${position}`,
    source,
    table: 'events',
    op: 'c',
    key: { id: position.toString() },
    before: null,
    after: { id: position.toString(), note: `change ${position}` },
    committedAt: '2026-03-04T05:06:07.123456Z',
    position,
    ...overrides,
  };
}

/** Changes at positions from..to inclusive. */
export function changesBetween(from: bigint, to: bigint, source = 'orders'): BronzeChange[] {
  const changes: BronzeChange[] = [];
  for (let position = from; position <= to; position += 1n) changes.push(changeAt(position, { source }));
  return changes;
}
