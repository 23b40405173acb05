/** A stream prefix no other test file uses. */
export function uniqueStreamPrefix(): string {
  return `T${Math.random().toString(36).slice(2, 10)}`;
}

/** Deletes what a test file created (its stream prefix). */
export { deleteStreamsWithPrefix as deleteStreams } from './nats-stream-cleanup.ts';

/** Silences the durability warning (the test server is not configured for it); prints the rest. */
export function testWarning(message: string, error?: unknown): void {
  if (message.includes('acks are not fsynced')) return;
  console.warn(`[nats test] ${message}`, error instanceof Error ? error.message : (error ?? ''));
}
