import { defineProjection, type Message } from '@causeway/core';
import { type ItemData, itemRecorded } from './bench-events.ts';

const rowColumns = ['event_id', 'stream_id', 'sku', 'quantity'] as const;
const rowTable = (name: string) =>
  `CREATE TABLE ${name} (event_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL)`;
const rowValues = (event: Message) => {
  const data = event.data as ItemData;
  return [event.id, event.streamId, data.sku, data.quantity];
};

/** One JSON document per stream, overwritten by each event: one document put per event. */
export const streamDocumentsProjection = defineProjection({
  name: 'bench_stream_documents',
  collections: ['streams'],
  handlers: {
    [itemRecorded.type]: async (event, { documents }) => {
      const data = event.data as ItemData;
      await documents.put('streams', event.streamId, {
        version: event.streamPosition,
        sku: data.sku,
        quantity: data.quantity,
      });
    },
  },
});

/** One SQL row per event, one INSERT statement per event (the straightforward handler). */
export const eventRowsProjection = defineProjection({
  name: 'bench_event_rows',
  tables: { event_rows: rowTable },
  handlers: {
    [itemRecorded.type]: async (event, { tx, table }) => {
      await tx.execute(
        `INSERT INTO ${table('event_rows')} (${rowColumns.join(', ')}) VALUES ($1, $2, $3, $4)`,
        rowValues(event),
      );
    },
  },
});

/** The same rows through `context.insert`: buffered and written with multi-row INSERTs at batch end. */
export const batchedRowsProjection = defineProjection({
  name: 'bench_batched_rows',
  tables: { batched_rows: rowTable },
  handlers: {
    [itemRecorded.type]: (event, { insert }) => {
      const values = rowValues(event);
      return insert(
        'batched_rows',
        Object.fromEntries(rowColumns.map((column, index) => [column, values[index]])),
      );
    },
  },
});

/** The documents projection under another name: started from the first event, applied live. */
export const liveDocumentsProjection = defineProjection({
  name: 'bench_live_documents',
  collections: ['streams'],
  handlers: streamDocumentsProjection.handlers as never,
});
