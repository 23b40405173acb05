import { InvalidArgumentError } from '../errors/index.ts';
import type { Delivery, SubscribeOptions } from './transport.ts';

/** Subscribe options with the transport's defaults filled in, checked: what a subscription runs with. */
export interface SubscriptionSettings {
  readonly group: string;
  /** As given, each destination once. */
  readonly destinations: readonly string[];
  readonly maxInFlight: number;
  readonly ackTimeoutMs: number;
}

export interface SubscriptionRuntimeOptions {
  /** What the transport uses for the options a caller leaves out. */
  defaults: { maxInFlight: number; ackTimeoutMs: number };
  /** Where a handler that threw is reported. Default: `process.emitWarning`. */
  warn?: (message: string, error?: unknown) => void;
}

/** Gives a handler slot back; calling it again does nothing. */
export type ReleaseSlot = () => void;

/**
 * What every transport's subscription shares, whatever its broker: the checked options, at most
 * `maxInFlight` handler slots, what happens when a handler throws, and the bounded drain on close.
 * The transport fetches, acks and nacks; it asks for a slot before it hands a message to
 * `invoke`, and decides how long a slot is held (the handler's run, or until the delivery settles).
 */
export interface SubscriptionRuntime {
  readonly settings: SubscriptionSettings;
  /** Aborts when `close()` begins: stop fetching, hand back what was fetched. */
  readonly closing: AbortSignal;
  /** Slots free now. */
  readonly freeSlots: number;
  /** A slot at once, or undefined when all are taken or the subscription is closing. */
  tryAcquireSlot(): ReleaseSlot | undefined;
  /**
   * Waits for a slot, first come first served. Undefined when the subscription closes, or
   * `signal` aborts, first: the caller hands the message back instead of handling it.
   */
  acquireSlot(signal?: AbortSignal): Promise<ReleaseSlot | undefined>;
  /**
   * Runs the handler on a delivery and never rejects. A handler that throws (a bug: the consumer
   * runtime catches its own errors) is reported, and its delivery retried after a short backoff
   * that grows with the attempt: its key waits, the others go on. A delivery that had already
   * settled ignores that retry, as every transport's delivery ignores all but its first ack or retry.
   */
  invoke(delivery: Delivery): Promise<void>;
  /**
   * Starts closing: no more slots, waiters get undefined. Resolves to true once the running
   * invocations finished, or to false after `min(ackTimeoutMs, 10 s)`: a hung handler is then
   * given up on as a crash would be, and the broker redelivers its message.
   */
  close(): Promise<boolean>;
}

/** The longest close() waits for running handlers. */
const maxSubscriptionDrainMs = 10_000;

/** Redelivery delay after a handler threw: 100 ms doubling with each attempt, capped by the ack timeout. */
export function backoffAfterThrowMs(attempt: number, ackTimeoutMs: number): number {
  return Math.min(ackTimeoutMs, 100 * 2 ** Math.min(Math.max(attempt, 1) - 1, 10));
}

/** Checks `options` (a typed InvalidArgumentError names the bad one) and fills in the defaults. */
function resolveSubscribeOptions(
  options: SubscribeOptions,
  defaults: SubscriptionRuntimeOptions['defaults'],
): SubscriptionSettings {
  if (typeof options.group !== 'string' || options.group.trim() === '') {
    throw new InvalidArgumentError('group', 'subscribe() needs a non-empty consumer group name');
  }
  const destinations = Array.isArray(options.destinations) ? options.destinations : [];
  if (destinations.length === 0 || !destinations.every((d) => typeof d === 'string' && d.trim() !== '')) {
    throw new InvalidArgumentError(
      'destinations',
      `subscribe() of group ${options.group} needs at least one non-empty destination`,
    );
  }
  const maxInFlight = options.maxInFlight ?? defaults.maxInFlight;
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new InvalidArgumentError(
      'maxInFlight',
      `maxInFlight must be a positive integer, got ${maxInFlight}`,
    );
  }
  const ackTimeoutMs = options.ackTimeoutMs ?? defaults.ackTimeoutMs;
  if (!Number.isFinite(ackTimeoutMs) || ackTimeoutMs < 10) {
    throw new InvalidArgumentError(
      'ackTimeoutMs',
      `ackTimeoutMs must be at least 10 ms, got ${ackTimeoutMs}`,
    );
  }
  return { group: options.group, destinations: [...new Set(destinations)], maxInFlight, ackTimeoutMs };
}

/** Checks the options (throws InvalidArgumentError before anything is subscribed) and starts the runtime. */
export function createSubscriptionRuntime(
  options: SubscribeOptions,
  handler: (delivery: Delivery) => Promise<void>,
  runtimeOptions: SubscriptionRuntimeOptions,
): SubscriptionRuntime {
  const settings = resolveSubscribeOptions(options, runtimeOptions.defaults);
  const warn = runtimeOptions.warn ?? emitWarning;
  const closing = new AbortController();
  /** Invocations running now; close() waits for the count to reach 0. */
  let running = 0;
  let onIdle: (() => void) | undefined;
  /** Waiting acquirers, oldest first: a released slot passes straight to the next one. */
  const waiters: Array<(release: ReleaseSlot) => void> = [];
  let held = 0;
  let closed: Promise<boolean> | undefined;

  function slot(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = waiters.shift();
      if (next) next(slot());
      else held--;
    };
  }

  function takeSlot(): ReleaseSlot {
    held++;
    return slot();
  }

  async function invoke(delivery: Delivery): Promise<void> {
    running++;
    try {
      await handler(delivery);
    } catch (error) {
      if (closing.signal.aborted) return; // the broker redelivers it, as after a crash
      const delayMs = backoffAfterThrowMs(delivery.attempt, settings.ackTimeoutMs);
      warn(
        `handler of group ${settings.group} threw on message ${delivery.message.id} (attempt ${delivery.attempt}); ` +
          `retrying it in ${delayMs} ms unless it had settled`,
        error,
      );
      await delivery.retry(delayMs).catch((retryError: unknown) => {
        if (!closing.signal.aborted) warn(`could not retry message ${delivery.message.id}`, retryError);
      });
    } finally {
      running--;
      if (running === 0) onIdle?.();
    }
  }

  return {
    settings,
    closing: closing.signal,
    get freeSlots() {
      return closing.signal.aborted ? 0 : Math.max(0, settings.maxInFlight - held);
    },
    tryAcquireSlot() {
      return closing.signal.aborted || held >= settings.maxInFlight ? undefined : takeSlot();
    },
    acquireSlot(signal) {
      if (closing.signal.aborted || signal?.aborted) return Promise.resolve(undefined);
      if (held < settings.maxInFlight) return Promise.resolve(takeSlot());
      const stop = signal === undefined ? closing.signal : AbortSignal.any([closing.signal, signal]);
      return new Promise((resolve) => {
        const onAbort = () => {
          const index = waiters.indexOf(hand);
          if (index >= 0) waiters.splice(index, 1);
          resolve(undefined);
        };
        const hand = (release: ReleaseSlot) => {
          stop.removeEventListener('abort', onAbort);
          resolve(release);
        };
        waiters.push(hand);
        stop.addEventListener('abort', onAbort, { once: true });
      });
    },
    invoke,
    close() {
      closed ??= (async () => {
        closing.abort();
        const graceMs = Math.min(settings.ackTimeoutMs, maxSubscriptionDrainMs);
        let grace: NodeJS.Timeout | undefined;
        const finished = await new Promise<boolean>((resolve) => {
          if (running === 0) return resolve(true);
          onIdle = () => resolve(true);
          grace = setTimeout(resolve, graceMs, false);
        });
        clearTimeout(grace);
        return finished;
      })();
      return closed;
    },
  };
}

function emitWarning(message: string, error?: unknown): void {
  const reason = error instanceof Error ? `: ${error.message}` : '';
  process.emitWarning(`${message}${reason}`);
}
