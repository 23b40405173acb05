import type { SubscribeOptions, Transport } from '@causeway/core';
import { onTestFinished } from 'vitest';
import { quietAckTimeoutMs, uniqueName } from './fixtures.ts';

/** The destinations and groups one test uses, for brokers that must declare them up front. */
export interface TransportTopology {
  readonly destination: string;
  readonly groups: readonly string[];
}

export interface TransportConformanceOptions {
  /** The transport's partition count (default: core's `defaultPartitions`). */
  partitions?: number;
  /**
   * Called on every transport a test opens, before the test publishes or subscribes, once per
   * destination: a broker that needs queues declared up front (RabbitMQ) declares them here.
   * Must be idempotent. Default: nothing.
   */
  prepare?: (transport: Transport, topology: TransportTopology) => Promise<void>;
}

/** What each test file gets from the suite. */
export interface TransportSuite {
  readonly partitions: number;
  /** Fresh names for one test; transports opened through it close when the test ends. */
  scenario(shape?: { groups?: number; destinations?: number }): Scenario;
}

export interface Scenario {
  /** The first destination; `destinations` holds all of them. */
  readonly destination: string;
  readonly destinations: readonly string[];
  /** The first group; `groups` holds all of them. */
  readonly group: string;
  readonly groups: readonly string[];
  /** Opens a new transport instance, prepared for this scenario and closed after the test. */
  open(): Promise<Transport>;
  /** The first group on the first destination, with the quiet ack timeout unless `overrides` set one. */
  subscribeOptions(overrides?: Partial<SubscribeOptions>): SubscribeOptions;
}

export function createTransportSuite(
  openTransport: () => Promise<Transport>,
  options: TransportConformanceOptions & { partitions: number },
): TransportSuite {
  return {
    partitions: options.partitions,
    scenario(shape = {}) {
      const destinations = Array.from({ length: shape.destinations ?? 1 }, () => uniqueName('t'));
      const groups = Array.from({ length: shape.groups ?? 1 }, () => uniqueName('g'));
      return {
        destination: destinations[0]!,
        destinations,
        group: groups[0]!,
        groups,
        async open() {
          const transport = await openTransport();
          onTestFinished(() => transport.close());
          for (const destination of destinations) await options.prepare?.(transport, { destination, groups });
          return transport;
        },
        subscribeOptions(overrides = {}) {
          return {
            group: groups[0]!,
            destinations: [destinations[0]!],
            ackTimeoutMs: quietAckTimeoutMs,
            ...overrides,
          };
        },
      };
    },
  };
}
