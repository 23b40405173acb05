/**
 * Each child writes stdout and stderr straight into DATA_DIR/logs/<service>.log (a file, not a
 * pipe: a busy supervisor can never block a child). On a crash the supervisor shows why it died.
 */
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';

/** Opens the log for appending and marks where this incarnation's output starts. */
export function openChildLog(file: string, banner: string): { fd: number; startOffset: number } {
  const fd = openSync(file, 'a');
  writeSync(fd, `\n--- ${banner} ---\n`);
  return { fd, startOffset: statSync(file).size };
}

/** What one incarnation wrote, from `startOffset` on (its last `maxBytes` at most); '' when unreadable. */
export function readLogSince(file: string, startOffset: number, maxBytes = 16_384): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const from = Math.max(startOffset, size - maxBytes);
    const buffer = Buffer.alloc(Math.max(0, size - from));
    readSync(fd, buffer, 0, buffer.length, from);
    return buffer.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
