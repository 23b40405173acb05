import { createWakeableSleep } from '../lifecycle/index.ts';
import { newMessageId } from '../message/index.ts';
import type { ClaimedMessage, Store } from '../store/index.ts';
import type { Transport, TransportMessage } from '../transport/index.ts';
import { backoffDelay } from './backoff.ts';

export interface OutboxRelayOptions {
  store: Store;
  transport: Transport;
  /** Lease owner; unique per relay instance. */
  owner?: string;
  batchSize?: number;
  /** A relay that dies holding messages loses its lease after this long; another takes over. */
  leaseMs?: number;
  /** Poll fallback when no change notification arrives. */
  idlePollMs?: number;
  onError?: (error: unknown) => void;
}

export interface OutboxRelayStatus {
  published: number;
  backlog: number;
  oldestAgeMs: number;
  lastError?: string;
}

function toTransportMessage(message: ClaimedMessage): TransportMessage {
  return {
    id: message.id,
    destination: message.destination,
    orderingKey: message.orderingKey,
    type: message.type,
    payload: message.payload,
  };
}

/**
 * Moves committed outbox rows to the transport: claim a batch (lease), publish with broker
 * confirmation, mark published. At least once: a crash after publish and before the mark
 * republishes the batch, and consumers' inboxes drop the duplicates. Per key in order: claims
 * never hand a key's later message to another relay while an earlier one is leased.
 */
export function createOutboxRelay(options: OutboxRelayOptions) {
  const { store, transport } = options;
  const owner = options.owner ?? `relay-${newMessageId()}`;
  const batchSize = options.batchSize ?? 500;
  const leaseMs = options.leaseMs ?? 30_000;
  const idlePollMs = options.idlePollMs ?? 1000;
  let running = false;
  let loop: Promise<void> | null = null;
  let unsubscribe: (() => void) | null = null;
  let published = 0;
  let lastError: string | undefined;

  const { sleep, wake } = createWakeableSleep();

  const claim = () => store.outbox.claimBatch({ owner, limit: batchSize, leaseMs });
  const idsOf = (batch: readonly ClaimedMessage[]) => batch.map((message) => message.id);

  /**
   * Publishes `batch` with broker confirmation. Publishes happen one batch at a time, in claim order, so a
   * key's messages reach the broker in order. On failure the lease is given back so the next
   * round (or another relay) retries in order.
   */
  async function publishBatch(batch: readonly ClaimedMessage[]): Promise<void> {
    try {
      await transport.publish(batch.map(toTransportMessage));
    } catch (error) {
      await store.outbox.release(owner, idsOf(batch)).catch(() => {});
      throw error;
    }
  }

  async function markBatch(batch: readonly ClaimedMessage[]): Promise<void> {
    await store.outbox.markPublished(owner, idsOf(batch));
    published += batch.length;
  }

  /** One claim-publish-mark round; the number of messages published. */
  async function relayOnce(): Promise<number> {
    const claimed = await claim();
    if (claimed.length === 0) return 0;
    await publishBatch(claimed);
    await markBatch(claimed);
    return claimed.length;
  }

  /**
   * Rounds until the outbox is empty, overlapping the database with the broker: the next batch is
   * claimed, and the previous one marked, while the current one is being published. A failed
   * publish gives back the batch claimed ahead too (it must not overtake the failed one).
   */
  async function relayWhileBusy(): Promise<void> {
    let current = await claim();
    let marking: Promise<void> = Promise.resolve();
    try {
      while (running && current.length > 0) {
        const next = claim();
        try {
          await publishBatch(current);
        } catch (error) {
          const ahead = await next.catch(() => []);
          await store.outbox.release(owner, idsOf(ahead)).catch(() => {});
          throw error;
        }
        await marking;
        marking = markBatch(current);
        current = await next;
      }
      // Stopped with a batch claimed ahead: hand it back rather than wait for its lease to expire.
      if (current.length > 0) await store.outbox.release(owner, idsOf(current)).catch(() => {});
    } finally {
      await marking;
    }
  }

  async function run() {
    let failures = 0;
    while (running) {
      try {
        await relayWhileBusy();
        failures = 0;
        lastError = undefined;
        if (running) await sleep(idlePollMs);
      } catch (error) {
        failures++;
        lastError = error instanceof Error ? error.message : String(error);
        options.onError?.(error);
        await sleep(backoffDelay(failures, { initialMs: 100, maxMs: 10_000 }));
      }
    }
  }

  return {
    owner,
    start() {
      if (running) return;
      running = true;
      unsubscribe = store.subscribeToChanges(wake);
      loop = run();
    },
    async stop() {
      running = false;
      unsubscribe?.();
      wake();
      await loop;
    },
    /** Publishes what is claimable now, until the outbox is empty (tests, shutdown). */
    async drain(): Promise<number> {
      let total = 0;
      for (let count = await relayOnce(); count > 0; count = await relayOnce()) total += count;
      return total;
    },
    async status(): Promise<OutboxRelayStatus> {
      const backlog = await store.outbox.backlog();
      return {
        published,
        backlog: backlog.count,
        oldestAgeMs: backlog.oldestAgeMs,
        ...(lastError ? { lastError } : {}),
      };
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
