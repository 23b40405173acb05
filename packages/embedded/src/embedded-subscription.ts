import { randomUUID } from 'node:crypto';
import type { Subscription, SubscriptionRuntime } from '@causeway/core';
import { createDelivery, type InFlightDelivery, partitionId } from './embedded-delivery.ts';
import { toEmbeddedTransportError, transportClosedError } from './embedded-errors.ts';
import type { EmbeddedLeases } from './embedded-leases.ts';
import type { ClaimedMessage, EmbeddedLog, PartitionKey } from './embedded-log.ts';
import type { EmbeddedWakeups } from './embedded-wakeups.ts';

export interface EmbeddedSubscriptionContext {
  log: EmbeddedLog;
  leases: EmbeddedLeases;
  wakeups: EmbeddedWakeups;
  isOpen(): boolean;
}

/** After a database error, how long the subscriber waits before it tries again. */
const errorBackoffMs = 200;
/** While under its fair share, how often a woken subscriber tries to take freed partitions. */
const rebalanceThrottleMs = 50;

/**
 * One subscriber of a group: holds a fair share of partition leases, and for each held partition
 * delivers one message at a time (the next one only after the previous is acked), at most
 * `maxInFlight` partitions at once: a delivery holds one of the runtime's slots until it settles.
 * Unacked deliveries come back after `ackTimeoutMs` with the attempt incremented; the attempt lives
 * in the cursor row, so it survives a crash.
 */
export class EmbeddedSubscription implements Subscription {
  readonly #id = randomUUID();
  readonly #runtime: SubscriptionRuntime;
  readonly #options: SubscriptionRuntime['settings'];
  readonly #context: EmbeddedSubscriptionContext;
  readonly #inFlight = new Map<string, InFlightDelivery>();
  readonly #held = new Map<string, readonly number[]>();
  /** Live members per destination at the last balance: a newcomer triggers a rebalance at once. */
  readonly #members = new Map<string, number>();
  /** Partitions above the fair share: no new deliveries; given back once the current one settles. */
  #draining = new Set<string>();
  #underShare = false;
  /** True when the last tick left ready partitions waiting for a free slot. */
  #starved = false;
  /** When each partition last got a slot: the longest-waiting partitions go first. */
  readonly #lastServed = new Map<string, number>();
  #serveCounter = 0;
  #lastBalanceAt = 0;
  #tickScheduled = false;
  #heartbeat: NodeJS.Timeout | undefined;
  #wakeTimer: { at: number; timer: NodeJS.Timeout } | undefined;
  #unsubscribe: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(runtime: SubscriptionRuntime, context: EmbeddedSubscriptionContext) {
    this.#runtime = runtime;
    this.#options = runtime.settings;
    this.#context = context;
  }

  start(): void {
    this.#balance(Date.now());
    // Members already running rebalance on their next tick when they see one more member.
    this.#context.wakeups.announce();
    this.#unsubscribe = this.#context.wakeups.subscribe(() => this.#requestTick());
    // Renewal at a third of the lease leaves two chances before another subscriber may take over.
    this.#heartbeat = setInterval(
      () => {
        this.#guard('renew leases', () => this.#balance(Date.now()));
        this.#requestTick();
      },
      Math.max(10, Math.floor(this.#options.ackTimeoutMs / 3)),
    );
    this.#requestTick();
  }

  /** Stops delivering, waits (bounded) for running handlers, then hands the partitions back. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#unsubscribe?.();
    clearInterval(this.#heartbeat);
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer.timer);
    await this.#runtime.close();
    for (const entry of this.#inFlight.values()) clearTimeout(entry.timer);
    this.#inFlight.clear();
    if (!this.#context.isOpen()) return;
    // Released, not left to expire: the next subscriber redelivers unacked messages at once.
    this.#guard('release leases', () => this.#context.leases.release(this.#id));
    this.#context.wakeups.announce();
  }

  get #closed(): boolean {
    return this.#closing !== undefined || !this.#context.isOpen();
  }

  #requestTick(): void {
    if (this.#tickScheduled || this.#closed) return;
    this.#tickScheduled = true;
    setImmediate(() => {
      this.#tickScheduled = false;
      if (!this.#closed) this.#guard('deliver', () => this.#tick());
    });
  }

  /** Claims the next message of every ready partition (one transaction) and hands them out. */
  #tick(): void {
    const now = Date.now();
    if (now - this.#lastBalanceAt >= rebalanceThrottleMs && (this.#underShare || this.#membersChanged(now))) {
      this.#balance(now);
    }
    const free = this.#runtime.freeSlots;
    if (free <= 0) return;
    const { group, destinations } = this.#options;
    const ready = this.#context.log
      .readyPartitions(group, this.#id, destinations, now)
      .filter((partition) => !this.#inFlight.has(partitionId(partition)))
      .filter((partition) => !this.#draining.has(partitionId(partition)));
    const later = ready.filter((partition) => partition.notBefore > now);
    if (later.length > 0) this.#wakeAt(Math.min(...later.map((partition) => partition.notBefore)));
    const waiting = ready
      .filter((partition) => partition.notBefore <= now)
      .sort((a, b) => this.#servedAt(a) - this.#servedAt(b));
    this.#starved = waiting.length > free;
    const due = waiting.slice(0, free);
    if (due.length === 0) return;
    const keys = due.map(({ destination, partition }) => ({ group, destination, partition }));
    for (const { key, claimed } of this.#context.log.claim(keys, this.#id, now)) {
      if (claimed !== null && claimed !== 'lost') this.#deliver(key, claimed);
    }
  }

  #membersChanged(now: number): boolean {
    const { group, destinations } = this.#options;
    return destinations.some(
      (destination) =>
        this.#context.leases.liveMembers(group, destination, now) !== this.#members.get(destination),
    );
  }

  #servedAt(partition: { destination: string; partition: number }): number {
    return this.#lastServed.get(partitionId(partition)) ?? 0;
  }

  #deliver(key: PartitionKey, claimed: ClaimedMessage): void {
    // Claimed for no more partitions than slots were free, so a slot is there; if not (a bug),
    // the claim lapses after the ack timeout and the message is redelivered.
    const release = this.#runtime.tryAcquireSlot();
    if (!release) return;
    const entry: InFlightDelivery = { key, claimed, settled: false, timer: undefined, release };
    this.#inFlight.set(partitionId(key), entry);
    this.#lastServed.set(partitionId(key), ++this.#serveCounter);
    entry.timer = setTimeout(() => this.#expire(entry), this.#options.ackTimeoutMs);
    const delivery = createDelivery(entry, {
      ack: (settled) => this.#ack(settled),
      retry: (settled, delayMs) => this.#retry(settled, delayMs),
    });
    void this.#runtime.invoke(delivery);
  }

  #ack(entry: InFlightDelivery): void {
    if (entry.settled) return;
    this.#assertTransportOpen();
    entry.settled = true;
    clearTimeout(entry.timer);
    const chain = this.#canChain(entry);
    let next: ClaimedMessage | 'lost' | null = null;
    try {
      // The ack is a no-op when a newer attempt was acked first (after an ack timeout).
      if (chain) next = this.#context.log.ackAndClaimNext(entry.key, entry.claimed.seq, this.#id, Date.now());
      else this.#context.log.ack(entry.key, entry.claimed.seq);
    } catch (error) {
      entry.settled = false;
      throw toEmbeddedTransportError(error, `cannot ack message ${entry.claimed.message.id}`);
    }
    this.#finish(entry);
    if (next !== null && next !== 'lost') this.#deliver(entry.key, next);
  }

  /**
   * Whether the ack may claim the partition's next message at once: only while this delivery is
   * the partition's current one, the partition stays here, and no other partition waits for a slot.
   */
  #canChain(entry: InFlightDelivery): boolean {
    const id = partitionId(entry.key);
    return !this.#closed && !this.#starved && this.#inFlight.get(id) === entry && !this.#draining.has(id);
  }

  #retry(entry: InFlightDelivery, delayMs: number): void {
    if (entry.settled) return;
    this.#assertTransportOpen();
    entry.settled = true;
    clearTimeout(entry.timer);
    const notBefore = Date.now() + Math.max(0, delayMs);
    try {
      this.#context.log.retry(entry.key, entry.claimed.seq, notBefore);
    } catch (error) {
      entry.settled = false;
      throw toEmbeddedTransportError(error, `cannot retry message ${entry.claimed.message.id}`);
    }
    this.#finish(entry);
    this.#wakeAt(notBefore);
  }

  /** The ack timeout ran out: the partition is free again and its claim redelivers (attempt + 1). */
  #expire(entry: InFlightDelivery): void {
    if (entry.settled) return;
    // Unsettled on purpose: a late ack of this attempt still counts if nothing newer was acked.
    this.#finish(entry);
  }

  #finish(entry: InFlightDelivery): void {
    const id = partitionId(entry.key);
    entry.release();
    if (this.#inFlight.get(id) === entry) this.#inFlight.delete(id);
    if (this.#draining.delete(id)) {
      this.#guard('give back a partition', () => this.#context.leases.releasePartition(entry.key, this.#id));
      this.#context.wakeups.announce();
    }
    this.#requestTick();
  }

  #wakeAt(at: number): void {
    if (this.#closed || (this.#wakeTimer !== undefined && this.#wakeTimer.at <= at)) return;
    if (this.#wakeTimer !== undefined) clearTimeout(this.#wakeTimer.timer);
    const timer = setTimeout(
      () => {
        this.#wakeTimer = undefined;
        this.#requestTick();
      },
      Math.max(0, at - Date.now()),
    );
    this.#wakeTimer = { at, timer };
  }

  /** Renews membership and leases, and takes or gives back partitions towards a fair share. */
  #balance(now: number): void {
    this.#lastBalanceAt = now;
    let released = false;
    let underShare = false;
    const draining = new Set<string>();
    for (const destination of this.#options.destinations) {
      const busy = new Set(
        [...this.#inFlight.values()]
          .filter((entry) => entry.key.destination === destination)
          .map((entry) => entry.key.partition),
      );
      const { held, share, surplus, members } = this.#context.leases.balance({
        group: this.#options.group,
        destination,
        owner: this.#id,
        now,
        leaseMs: this.#options.ackTimeoutMs,
        busy,
      });
      released ||= (this.#held.get(destination) ?? []).some((partition) => !held.includes(partition));
      underShare ||= held.length < share;
      for (const partition of surplus) draining.add(partitionId({ destination, partition }));
      this.#held.set(destination, held);
      this.#members.set(destination, members);
    }
    this.#underShare = underShare;
    this.#draining = draining;
    if (released) this.#context.wakeups.announce();
  }

  /** Runs background work; a database error is reported and retried later, never thrown. */
  #guard(action: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      if (this.#closed) return;
      const mapped = toEmbeddedTransportError(error, `embedded transport could not ${action}`);
      process.emitWarning(`${mapped.message} (retrying in ${errorBackoffMs} ms)`);
      this.#wakeAt(Date.now() + errorBackoffMs);
    }
  }

  #assertTransportOpen(): void {
    if (!this.#context.isOpen()) throw transportClosedError();
  }
}
