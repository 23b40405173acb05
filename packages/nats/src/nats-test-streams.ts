import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** A stream prefix no other test file uses. */
export function uniqueStreamPrefix(): string {
  return `T${Math.random().toString(36).slice(2, 10)}`;
}

/** Deletes every stream whose name starts with `<prefix>_`: what a test file created. */
export async function deleteStreams(servers: string, prefix: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) if (name.startsWith(`${prefix}_`)) names.push(name);
    await Promise.all(names.map((name) => jsm.streams.delete(name)));
  } finally {
    await nc.close();
  }
}

/** Silences the durability warning (the test server is not configured for it); prints the rest. */
export function testWarning(message: string, error?: unknown): void {
  if (message.includes('acks are not fsynced')) return;
  console.warn(`[nats test] ${message}`, error instanceof Error ? error.message : (error ?? ''));
}
