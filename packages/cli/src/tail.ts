/**
 * `streams tail`: follows a database's global log from its head, printing each new event (one line,
 * or one JSON object per line), until interrupted. It reads with the store's own gap-holding
 * reader, so an event committed late is printed, never skipped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { GlobalCursor, Store } from '@causeway/core';
import { eventRow } from './flow.ts';

export async function tailLog(
  store: Store,
  options: {
    stream?: string;
    json: boolean;
    everyMs: number;
    signal: AbortSignal;
    write: (text: string) => void;
  },
): Promise<void> {
  let cursor: GlobalCursor = { position: await store.events.headPosition() };
  // On stderr, so that --json output is only events.
  process.stderr.write(`Following from position ${cursor.position}; Ctrl-C stops.\n`);
  while (!options.signal.aborted) {
    const batch = await store.events.readAll(cursor, { limit: 500 });
    cursor = batch.cursor;
    for (const event of batch.events) {
      if (options.stream !== undefined && event.streamId !== options.stream) continue;
      const row = { ...eventRow(event), data: event.data };
      options.write(
        options.json
          ? `${JSON.stringify(row)}\n`
          : `${row.occurredAt}  ${row.stream}@${row.position}  ${row.type}  ${JSON.stringify(row.data)}\n`,
      );
    }
    if (batch.events.length === 0)
      await sleep(options.everyMs, undefined, { signal: options.signal }).catch(() => {});
  }
}
