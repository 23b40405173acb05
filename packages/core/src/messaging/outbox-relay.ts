import { createWakeableSleep } from '../lifecycle/index.ts';
import { newMessageId } from '../message/index.ts';
import type { ClaimedMessage, OutboxMessage, Store } from '../store/index.ts';
import type { Transport, TransportMessage } from '../transport/index.ts';
import { backoffDelay } from './backoff.ts';
import { publishTraced } from './publish-traced.ts';

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
  /**
   * Take the messages this process enqueues straight from their committing transactions, where
   * the store offers it (`OutboxStore.handOffEnqueued`: PostgreSQL), instead of claiming them
   * from the table afterwards. Default true. A crash between the commit and the publish leaves
   * them leased to this relay: they go out through a claim once the lease ends.
   */
  handoff?: boolean;
  onError?: (error: unknown) => void;
}

export interface OutboxRelayStatus {
  published: number;
  backlog: number;
  oldestAgeMs: number;
  lastError?: string;
}

function toTransportMessage(message: OutboxMessage): TransportMessage {
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

  const { sleep, wake: wakeSleep } = createWakeableSleep();
  /** Change announcements so far: tells whether rows may have been added since a claim. */
  let changes = 0;
  const wake = () => {
    changes++;
    wakeSleep();
  };

  const idsOf = (batch: readonly OutboxMessage[]) => batch.map((message) => message.id);
  let spells = 0;

  const handoff = createHandoffPump();

  /**
   * The claims of one busy spell share a lease owner, so that the relay may claim a key's later
   * messages while the batch holding its earlier ones is being published. Each spell takes a new
   * owner: anything an earlier spell left leased (its release failed) then blocks its keys like
   * another relay's lease would, until the lease ends, instead of being overtaken.
   */
  function startSpell() {
    const spellOwner = `${owner}#${++spells}`;
    return {
      claim: () => store.outbox.claimBatch({ owner: spellOwner, limit: batchSize, leaseMs }),
      /** With broker confirmation; one batch at a time, in claim order. */
      publish: (batch: readonly ClaimedMessage[]) => publishTraced(transport, batch.map(toTransportMessage)),
      async mark(batch: readonly ClaimedMessage[]) {
        await store.outbox.markPublished(spellOwner, idsOf(batch));
        published += batch.length;
      },
      /** Gives back what was claimed and not published, so the next spell retries it in order. */
      async release(batch: readonly ClaimedMessage[]) {
        if (batch.length > 0) await store.outbox.release(spellOwner, idsOf(batch)).catch(() => {});
      },
    };
  }

  /** One claim-publish-mark round; the number of messages published. */
  async function relayOnce(): Promise<number> {
    const spell = startSpell();
    const claimed = await spell.claim();
    if (claimed.length === 0) return 0;
    try {
      await spell.publish(claimed);
    } catch (error) {
      await spell.release(claimed);
      throw error;
    }
    await spell.mark(claimed);
    return claimed.length;
  }

  /**
   * Rounds until the outbox is empty, overlapping the database with the broker: the next batch is
   * claimed, and the previous one marked, while the current one is being published. However it
   * ends (stopped, a failed publish, claim or mark), what was claimed and not published is given
   * back, so nothing claimed ahead can overtake what failed.
   */
  async function relayWhileBusy(): Promise<void> {
    const spell = startSpell();
    let changesAtClaim = changes;
    let unpublished = await spell.claim();
    let ahead: Promise<ClaimedMessage[]> | null = null;
    let marking: Promise<void> = Promise.resolve();
    try {
      while (running && unpublished.length > 0) {
        // Claiming ahead is worth a query only when more is known to wait: a full batch, or a change
        // announced since the last claim. Otherwise the remembered wake brings the relay back.
        const moreWaiting = unpublished.length >= batchSize || changes !== changesAtClaim;
        changesAtClaim = changes;
        ahead = moreWaiting ? spell.claim() : null;
        await spell.publish(unpublished);
        const sent = unpublished;
        unpublished = [];
        await marking;
        marking = spell.mark(sent);
        if (ahead === null && changes !== changesAtClaim) {
          changesAtClaim = changes;
          ahead = spell.claim();
        }
        unpublished = ahead ? await ahead : [];
        ahead = null;
      }
    } finally {
      const claimedAhead = ahead ? await ahead.catch(() => []) : [];
      await spell.release([...unpublished, ...claimedAhead]);
      await marking;
    }
  }

  /**
   * The messages handed over by this process's own transactions (see `handoff`), published in
   * commit order, one batch at a time, and marked behind. Their keys are theirs alone (the store
   * leases a message to the handoff only when nobody else holds an earlier one of its key), so
   * they go out beside the claimed batches without overtaking any. The handoff opens when the
   * relay starts and after every clean claim round; a failed publish closes it and gives
   * everything handed back to the claims, in order, so nothing queued behind the failure
   * overtakes it.
   */
  function createHandoffPump() {
    const handed: OutboxMessage[] = [];
    let openOwner: string | null = null;
    let handoffs = 0;
    let pumping: Promise<void> | null = null;

    async function giveBack(handoffOwner: string, messages: readonly OutboxMessage[]) {
      if (messages.length === 0) return;
      await store.outbox.release(handoffOwner, idsOf(messages)).catch(() => {});
      wake();
    }

    function close(): string | null {
      const closing = openOwner;
      if (closing === null) return null;
      openOwner = null;
      store.outbox.handOffEnqueued?.(null);
      return closing;
    }

    async function pump(): Promise<void> {
      let marking: Promise<void> = Promise.resolve();
      try {
        while (running && openOwner !== null && handed.length > 0) {
          const handoffOwner = openOwner;
          const batch = handed.splice(0, batchSize);
          try {
            await publishTraced(transport, batch.map(toTransportMessage));
          } catch (error) {
            close();
            await giveBack(handoffOwner, [...batch, ...handed.splice(0)]);
            lastError = error instanceof Error ? error.message : String(error);
            options.onError?.(error);
            return;
          }
          await marking;
          marking = store.outbox.markPublished(handoffOwner, idsOf(batch)).then(
            () => {
              published += batch.length;
            },
            // Published, not marked: a claim republishes it once the lease ends (at least once).
            (error: unknown) => options.onError?.(error),
          );
        }
      } finally {
        await marking;
      }
    }

    /** One pump at a time; what was handed while the last one finished its marks starts another. */
    function startPump(): void {
      if (pumping) return;
      pumping = pump().finally(() => {
        pumping = null;
        if (running && openOwner !== null && handed.length > 0) startPump();
      });
    }

    return {
      open() {
        if (options.handoff === false || !store.outbox.handOffEnqueued || openOwner !== null) return;
        const handoffOwner = `${owner}#handoff${++handoffs}`;
        openOwner = handoffOwner;
        store.outbox.handOffEnqueued({
          owner: handoffOwner,
          leaseMs,
          take(messages) {
            // Written while this handoff was open, committed after it closed: back to the claims.
            if (!running || openOwner !== handoffOwner) return void giveBack(handoffOwner, messages);
            handed.push(...messages);
            startPump();
          },
        });
      },
      /** Closes the handoff and gives back what it has not published. */
      async stop() {
        const handoffOwner = close();
        await pumping;
        if (handoffOwner !== null) await giveBack(handoffOwner, handed.splice(0));
      },
      /** Until everything handed over so far is published (or given back). */
      async settled() {
        while (pumping) await pumping;
      },
    };
  }

  async function run() {
    let failures = 0;
    while (running) {
      try {
        await relayWhileBusy();
        failures = 0;
        lastError = undefined;
        handoff.open();
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
      unsubscribe = store.subscribeToChanges(wake, { only: 'outbox' });
      handoff.open();
      loop = run();
    },
    async stop() {
      running = false;
      unsubscribe?.();
      await handoff.stop();
      wake();
      await loop;
    },
    /** Publishes what is claimable now, until the outbox is empty (tests, shutdown). */
    async drain(): Promise<number> {
      await handoff.settled();
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
