/**
 * A writer process for the multi-process test: appends to its own stream in order (with
 * expected versions) and to a shared stream, through both append and appendMany.
 * Usage: node --import tsx --conditions=@causeway/source append-worker.ts <filename> <workerIndex> <appends>
 */
import { newMessageId } from '@causeway/core';
import { createSqliteStore } from '../index.ts';

function event(streamId: string, index: number) {
  return {
    id: newMessageId(),
    type: 'WorkerAppended',
    schemaVersion: 1,
    streamId,
    correlationId: null,
    causationId: null,
    occurredAt: new Date().toISOString(),
    metadata: {},
    data: { index, pid: process.pid },
  };
}

async function main(): Promise<void> {
  const [filename, workerIndex, appends] = process.argv.slice(2);
  const store = await createSqliteStore({ filename: filename!, busyTimeoutMs: 30_000 });
  const ownStream = `worker-${workerIndex}`;
  for (let index = 0; index < Number(appends); index += 1) {
    if (index % 2 === 0) {
      await store.transaction((tx) =>
        store.events.append(tx, {
          streamId: ownStream,
          expectedVersion: index,
          events: [event(ownStream, index)],
        }),
      );
    } else {
      const results = await store.events.appendMany([
        { streamId: ownStream, expectedVersion: index, events: [event(ownStream, index)] },
        { streamId: 'shared', expectedVersion: 'any', events: [event('shared', index)] },
      ]);
      const failure = results.find((result) => result instanceof Error);
      if (failure) throw failure;
    }
  }
  await store.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
