import { createEventRegistry, defineEvent, type NewMessage, newMessageId } from '@causeway/core';
import { z } from 'zod';

/** The one event type of the store bench; its data is about 100 bytes of JSON. */
export const itemRecorded = defineEvent({
  type: 'bench.ItemRecorded',
  schema: z.object({ sku: z.string(), quantity: z.number().int(), note: z.string() }),
});

export const benchRegistry = createEventRegistry([itemRecorded]);

const note = 'recorded by the causeway store bench, about one hundred bytes';

export interface ItemData {
  sku: string;
  quantity: number;
  note: string;
}

/** The data of the n-th bench event; the raw baselines store exactly this JSON. */
export function itemData(n: number): ItemData {
  return { sku: `SKU-${String(n % 100_000).padStart(6, '0')}`, quantity: (n % 9) + 1, note };
}

export function itemEvents(first: number, count: number): NewMessage<ItemData>[] {
  return Array.from({ length: count }, (_, index) => ({
    type: itemRecorded.type,
    data: itemData(first + index),
  }));
}

let streamCounter = 0;

/** A stream id no other append of this process used (each append of the append figures is a new stream). */
export function newStreamId(prefix = 'item'): string {
  streamCounter++;
  return `${prefix}-${streamCounter.toString(36)}-${newMessageId().slice(-8)}`;
}
