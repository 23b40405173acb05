// A consumer that acks the first message and then holds the next one until it is killed.
// Usage: tsx hold-second-message.ts <url> <prefix> <destination> <group>
import { createRabbitMqTransport } from '../rabbitmq-transport.ts';

const [url, prefix, destination, group] = process.argv.slice(2) as [string, string, string, string];
const transport = createRabbitMqTransport({
  url,
  prefix,
  partitions: 1,
  topology: { [destination]: [group] },
});
let acked = 0;
await transport.subscribe({ group, destinations: [destination], ackTimeoutMs: 600_000 }, async (delivery) => {
  process.stdout.write(`received ${JSON.stringify(delivery.message.payload)} attempt ${delivery.attempt}\n`);
  if (acked++ === 0) await delivery.ack();
});
process.stdout.write('subscribed\n');
