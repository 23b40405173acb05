import type { GlobalBatch } from '@causeway/core';

const committedFlag = 1;
const deliveredFlag = 2;

/** What a randomized global-order run wrote and what its reader was given, checked as it goes. */
export interface GlobalOrderSummary {
  attempted: number;
  committed: number;
  delivered: number;
  /** Committed events the reader never got. */
  missing: number;
  /** Events the reader got although they never committed (or carried no known number). */
  phantoms: number;
  duplicates: number;
  /** Deliveries whose global position was not above the one before. */
  outOfOrder: number;
  /** Deliveries whose stream position was not one more than the stream's last. */
  streamBreaks: number;
  /**
   * Transactions that committed after a transaction with a higher position: when they sent
   * COMMIT, a higher position's commit had already been acknowledged. A lower bound (commits
   * that raced are not counted), so every one is certain.
   */
  commitsOutOfOrder: number;
  /** Gaps the reader stopped at: a higher position visible, a lower one not yet. */
  gapsHeld: number;
  /**
   * Held gaps then filled and delivered: the reader saw a lower position commit after a higher
   * one. A reader that went on after the highest position seen would have skipped each.
   */
  gapsFilledLate: number;
  /** Held gaps stepped over once proven final (positions of rolled-back transactions). */
  gapsSteppedOver: number;
  /** The first few violations, for the failure message. */
  violations: string[];
}

/**
 * Bookkeeping for millions of events in a few bytes each: every attempted event gets a number
 * (carried in its data as `n`), and one byte per number records committed and delivered.
 */
export function createGlobalOrderLedger() {
  let flags = new Uint8Array(1 << 16);
  let attempted = 0;
  let committed = 0;
  let delivered = 0;
  let lastPosition = 0;
  let highestAcknowledged = 0;
  let commitsOutOfOrder = 0;
  let pendingGap: number | undefined;
  const lastByStream = new Map<string, number>();
  const summary = {
    phantoms: 0,
    duplicates: 0,
    outOfOrder: 0,
    streamBreaks: 0,
    gapsHeld: 0,
    gapsFilledLate: 0,
    gapsSteppedOver: 0,
  };
  const violations: string[] = [];
  const violation = (kind: keyof typeof summary, text: string) => {
    summary[kind] += 1;
    if (violations.length < 10) violations.push(text);
  };

  function nextNumber(): number {
    if (attempted === flags.length) {
      const grown = new Uint8Array(flags.length * 2);
      grown.set(flags);
      flags = grown;
    }
    attempted += 1;
    return attempted - 1;
  }

  /**
   * Call with a transaction's lowest position right before it commits; true if a higher position
   * has been committed already (its commit acknowledged), so this commit will be out of order.
   */
  function isBehindCommitted(lowestPosition: number): boolean {
    return lowestPosition < highestAcknowledged;
  }

  /** Records events whose commit was acknowledged: their numbers and global positions. */
  function markCommitted(events: ReadonlyArray<{ n: number; globalPosition: number }>, outOfOrder = false) {
    for (const { n, globalPosition } of events) {
      flags[n]! |= committedFlag;
      committed += 1;
      highestAcknowledged = Math.max(highestAcknowledged, globalPosition);
    }
    if (outOfOrder) commitsOutOfOrder += 1;
  }

  function observe(batch: GlobalBatch): void {
    for (const event of batch.events) {
      const position = event.globalPosition;
      if (position === pendingGap) {
        summary.gapsFilledLate += 1;
        pendingGap = undefined;
      }
      if (position <= lastPosition) violation('outOfOrder', `position ${position} after ${lastPosition}`);
      lastPosition = position;
      const expected = (lastByStream.get(event.streamId) ?? 0) + 1;
      if (event.streamPosition !== expected)
        violation('streamBreaks', `${event.streamId}@${event.streamPosition}, expected @${expected}`);
      lastByStream.set(event.streamId, event.streamPosition);
      countDelivery(event.data, position);
    }
    if (pendingGap !== undefined && batch.cursor.position >= pendingGap) {
      summary.gapsSteppedOver += 1;
      pendingGap = undefined;
    }
    const hold = batch.cursor.hold;
    if (hold && hold.at !== pendingGap) {
      summary.gapsHeld += 1;
      pendingGap = hold.at;
    }
  }

  function countDelivery(data: unknown, position: number): void {
    const n = (data as { n?: unknown } | null)?.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n >= attempted) {
      violation('phantoms', `position ${position} carries no known event number`);
      return;
    }
    if (flags[n]! & deliveredFlag)
      violation('duplicates', `event ${n} delivered twice (again at ${position})`);
    flags[n]! |= deliveredFlag;
    delivered += 1;
  }

  /** Compares the two records number by number; call once writers and reader are done. */
  function summarize(): GlobalOrderSummary {
    let missing = 0;
    let phantoms = summary.phantoms;
    const found: string[] = [];
    for (let n = 0; n < attempted; n++) {
      const isCommitted = (flags[n]! & committedFlag) !== 0;
      const isDelivered = (flags[n]! & deliveredFlag) !== 0;
      if (isCommitted === isDelivered) continue;
      if (isCommitted) missing += 1;
      else phantoms += 1;
      if (found.length < 10)
        found.push(`event ${n} ${isCommitted ? 'committed, never delivered' : 'delivered, never committed'}`);
    }
    return {
      attempted,
      committed,
      delivered,
      missing,
      commitsOutOfOrder,
      ...summary,
      phantoms,
      violations: [...violations, ...found].slice(0, 10),
    };
  }

  return {
    nextNumber,
    isBehindCommitted,
    markCommitted,
    observe,
    summarize,
    committedCount: () => committed,
    /** Cheap running figures for progress lines. */
    progress: () => ({
      attempted,
      committed,
      delivered,
      position: lastPosition,
      commitsOutOfOrder,
      ...summary,
    }),
  };
}
