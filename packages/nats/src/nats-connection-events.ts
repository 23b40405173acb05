import { TransportUnavailableError } from '@causeway/core';
import type { NatsConnection } from '@nats-io/transport-node';

type Interruption = 'disconnect' | 'reconnect';

const listenersByConnection = new WeakMap<NatsConnection, Set<(event: Interruption) => void>>();

/** One status reader per connection, fanning its disconnects and reconnects out to listeners. */
function listenersOf(nc: NatsConnection): Set<(event: Interruption) => void> {
  const known = listenersByConnection.get(nc);
  if (known) return known;
  const listeners = new Set<(event: Interruption) => void>();
  listenersByConnection.set(nc, listeners);
  void (async () => {
    // Ends when the connection closes.
    for await (const status of nc.status()) {
      if (status.type === 'disconnect' || status.type === 'reconnect') {
        for (const listener of [...listeners]) listener(status.type);
      }
    }
  })().catch(() => {});
  return listeners;
}

/**
 * Runs `work` (requests to JetStream) and rejects as soon as the connection drops or comes back
 * while it runs. The client neither fails a pending request when the socket dies nor sends what
 * was written while disconnected (it resets its outbound buffer on each reconnect attempt), so
 * without this such a request waits out its whole timeout, even after the server is back: the
 * outbox relay would stall that long after every broker restart. Rejecting early is safe for
 * publishes: the relay publishes the batch again, and JetStream drops the ids it already stored.
 */
export async function unlessInterrupted<T>(nc: NatsConnection, action: string, work: Promise<T>): Promise<T> {
  const listeners = listenersOf(nc);
  let listener: ((event: Interruption) => void) | undefined;
  const interrupted = new Promise<never>((_, reject) => {
    listener = (event) =>
      reject(
        new TransportUnavailableError(
          `NATS unavailable while trying to ${action}: the connection ${event === 'disconnect' ? 'dropped' : 'was re-established'} before the server answered; retry`,
          { transport: 'nats', details: { action, event } },
        ),
      );
    listeners.add(listener);
  });
  try {
    return await Promise.race([work, interrupted]);
  } finally {
    if (listener) listeners.delete(listener);
  }
}
