import { newMessageId } from '@causeway/core';
import { itemData, itemRecorded } from './bench-events.ts';

let streamCounter = 0;

/** A new stream id for the raw baselines, like Causeway's appends to new streams. */
export function nextStream(): string {
  return `raw-${(++streamCounter).toString(36)}`;
}

/**
 * One row for the baselines' events table, which has the same columns and unique constraints as
 * Causeway's (global position, unique event id, unique stream position): the engine's own cost for
 * this data, so the ratio shows what Causeway adds on top.
 */
export function rawEventRow(stream: string, streamPosition: number): unknown[] {
  return [
    newMessageId(),
    stream,
    streamPosition,
    itemRecorded.type,
    new Date().toISOString(),
    '{}',
    JSON.stringify(itemData(streamCounter * 100 + streamPosition)),
  ];
}
