/**
 * Child process for the multi-process test: consumes one group from the shared transport file
 * and prints `handled <id> <key> <index> <attempt> <hrtimeNs>` for each delivery before acking it
 * (the "effect" happens before the ack, so a kill in between redelivers: at least once).
 * `process.hrtime` is CLOCK_MONOTONIC on Linux, one clock for every process of the machine, so the
 * parent can merge the children's lines in real order.
 * Usage: embedded-consumer <filename> <group> <destination>
 */
import { writeSync } from 'node:fs';
import { createEmbeddedTransport } from '../embedded-transport.ts';

const [filename, group, destination] = process.argv.slice(2) as [string, string, string];

const transport = createEmbeddedTransport({ filename });
await transport.subscribe(
  { group, destinations: [destination], ackTimeoutMs: 1_000, maxInFlight: 16 },
  async (delivery) => {
    const { id, orderingKey, payload } = delivery.message;
    const { index } = payload as { index: number };
    writeSync(1, `handled ${id} ${orderingKey} ${index} ${delivery.attempt} ${process.hrtime.bigint()}\n`);
    // The gap between the effect and the ack, where a SIGKILL forces a redelivery.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
    await delivery.ack();
  },
);
writeSync(1, 'ready\n');
