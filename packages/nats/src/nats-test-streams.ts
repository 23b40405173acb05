import { describeRequiring } from '@causeway/testing';
import { findNatsServerBinary } from './private-nats-server.ts';

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

/**
 * A describe block for a test that runs its own nats-server (a restart must not disturb the
 * shared one). Without the binary it is skipped with a loud warning, and fails under CI=true.
 */
export function describeWithNatsServerBinary(title: string, body: (binary: string) => void): void {
  const binary = findNatsServerBinary();
  const missing = binary
    ? null
    : `nats-server binary not found (set NATS_SERVER_BIN): ${title} needs its own server`;
  describeRequiring(title, missing, () => body(binary ?? ''));
}
