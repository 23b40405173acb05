/**
 * The parts of a service for the tracing tests: a SQLite store and the embedded transport in a
 * fresh directory, and an OTLP receiver that `startTracing`'s default exporter sends to.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedTransport } from '@causeway/embedded';
import { createSqliteStore } from '@causeway/sqlite';
import { startOtlpReceiver } from '@causeway/testing';

export async function openTracedService(name: string) {
  const directory = mkdtempSync(join(tmpdir(), `causeway-${name}-`));
  const transport = createEmbeddedTransport({ filename: join(directory, 'transport.db'), pollIntervalMs: 5 });
  const store = await createSqliteStore({ filename: join(directory, 'service.db') });
  const receiver = await startOtlpReceiver();
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.endpoint;
  return {
    transport,
    store,
    receiver,
    /** Stops what runs on the parts (in the order given), then closes the parts. */
    async close(...running: Array<(() => Promise<unknown>) | undefined>) {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      for (const stop of running) await stop?.();
      await transport.close();
      await store.close();
      await receiver.close();
    },
  };
}

export async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
