import { defaultPartitions, type Transport } from '@causeway/core';
import { describe } from 'vitest';
import { describeConsumerLagConformance } from './consumer-lag.ts';
import { describeDeliveryConformance } from './delivery.ts';
import { describeFlowControlConformance } from './flow-control.ts';
import { describeOrderingConformance } from './ordering.ts';
import { describeRedeliveryConformance } from './redelivery.ts';
import { createTransportSuite, type TransportConformanceOptions } from './scenario.ts';

export type { TransportConformanceOptions, TransportTopology } from './scenario.ts';

/**
 * The Transport port's contract, run by every transport: at-least-once delivery, durability of a
 * resolved publish, per-key order within a group under competing consumers, fan-out to groups,
 * redelivery after an ack timeout, a throw, a retry or a crash, maxInFlight, and closing; and, for
 * a transport that has the optional `consumerLag()`, what a subscribed group has not acked.
 * `openTransport` returns a new instance on every call (several may be open at once, as separate
 * processes would be); each test uses fresh destination and group names and closes what it opened.
 */
export function describeTransportConformance(
  name: string,
  openTransport: () => Promise<Transport>,
  options: TransportConformanceOptions = {},
): void {
  const suite = createTransportSuite(openTransport, {
    ...options,
    partitions: options.partitions ?? defaultPartitions,
  });
  describe(`Transport conformance: ${name}`, () => {
    describeDeliveryConformance(suite);
    describeOrderingConformance(suite);
    describeRedeliveryConformance(suite);
    describeFlowControlConformance(suite);
    describeConsumerLagConformance(suite);
  });
}
