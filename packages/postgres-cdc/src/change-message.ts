import type { Message, TransportMessage } from '@causeway/core';
import type { Change } from './change.ts';

export interface ChangeMessageOptions {
  /** The topic of a change; by default `<schema>.<table>.changes`. */
  destination?: string | ((change: Change) => string);
  /** The envelope's type, as consumers register it, e.g. `shipping.ShipmentChanged`. */
  type: string | ((change: Change) => string);
}

/**
 * The ordering key of a change: its table and key values, so one row's changes stay in order on
 * every transport. A truncate has no key and takes its table's name.
 */
export function changeOrderingKey(change: Change): string {
  const table = `${change.source.schema}.${change.source.table}`;
  return change.key === null ? table : `${table}:${JSON.stringify(Object.values(change.key))}`;
}

/** A change as a Causeway message: the envelope consumers and inboxes already understand. */
export function toTransportMessage(change: Change, options: ChangeMessageOptions): TransportMessage {
  const destination =
    typeof options.destination === 'function'
      ? options.destination(change)
      : (options.destination ?? `${change.source.schema}.${change.source.table}.changes`);
  const type = typeof options.type === 'function' ? options.type(change) : options.type;
  const orderingKey = changeOrderingKey(change);
  const envelope: Message<Change> = {
    id: change.id,
    type,
    schemaVersion: 1,
    streamId: orderingKey,
    streamPosition: 0,
    globalPosition: 0,
    correlationId: null,
    causationId: null,
    occurredAt: change.source.commitTime,
    metadata: { source: 'postgres-cdc', slot: change.source.slot, lsn: change.source.lsn },
    data: change,
  };
  return { id: change.id, destination, orderingKey, type, payload: envelope };
}
