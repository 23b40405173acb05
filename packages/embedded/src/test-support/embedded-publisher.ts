/**
 * Child process for the cross-process wake-up test: publishes `count` messages to the shared
 * transport file, one publish every `gapMs`, printing `published <id>` after each; after another
 * `gapMs` it prints `closing` and closes (closing checkpoints the file: a write others may notice).
 * Usage: embedded-publisher <filename> <destination> <count> <gapMs>
 */
import { writeSync } from 'node:fs';
import { newMessageId } from '@causeway/core';
import { createEmbeddedTransport } from '../embedded-transport.ts';

const [filename, destination, count, gapMs] = process.argv.slice(2) as [string, string, string, string];

const transport = createEmbeddedTransport({ filename });
for (let index = 0; index < Number(count); index++) {
  await new Promise((resolve) => setTimeout(resolve, Number(gapMs)));
  const id = newMessageId();
  await transport.publish([
    { id, destination, orderingKey: `key-${index}`, type: 'test.Woken', payload: { index } },
  ]);
  writeSync(1, `published ${id}\n`);
}
await new Promise((resolve) => setTimeout(resolve, Number(gapMs)));
writeSync(1, 'closing\n');
await transport.close();
