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

  /** One claim-publish-mark round; the number of messages published. */
  async function relayOnce(): Promise<number> {
    const claimed = await store.outbox.claimBatch({ owner, limit: batchSize, leaseMs });
    if (claimed.length === 0) return 0;
    const ids = claimed.map((message) => message.id);
    try {
      await transport.publish(claimed.map(toTransportMessage));
    } catch (error) {
      // Give the lease back so the next round (or another relay) retries in order.
      await store.outbox.release(owner, ids).catch(() => {});
      throw error;
    }
    await store.outbox.markPublished(owner, ids);
    published += claimed.length;
    return claimed.length;
  }

  async function run() {
    let failures = 0;
    while (running) {
      try {
        const count = await relayOnce();
        failures = 0;
        lastError = undefined;
        if (count === 0) await sleep(idlePollMs);
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
