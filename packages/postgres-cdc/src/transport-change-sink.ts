import type { Transport } from '@causeway/core';
import { type ChangeMessageOptions, toTransportMessage } from './change-message.ts';
import type { ChangeHandler } from './postgres-change-source.ts';

/**
 * A handler that publishes each transaction's changes to a transport and resolves once the broker
 * confirmed them all: only then does the source acknowledge the transaction to its slot. A crash
 * between the two publishes the transaction again with the same message ids, which the
 * consumers' inboxes absorb.
 */
export function createTransportChangeSink(
  transport: Transport,
  options: ChangeMessageOptions,
): ChangeHandler {
  return async (transaction) => {
    if (transaction.changes.length === 0) return;
    await transport.publish(transaction.changes.map((change) => toTransportMessage(change, options)));
  };
}
