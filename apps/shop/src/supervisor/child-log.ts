/**
 * Each child writes stdout and stderr straight into DATA_DIR/logs/<service>.log (a file, not a
 * pipe: a busy supervisor can never block a child). On a crash the supervisor shows the tail.
 */
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs';

/** Opens the log for appending and marks where this incarnation's output starts. */
export function openChildLog(file: string, banner: string): { fd: number; startOffset: number } {
  const fd = openSync(file, 'a');
  writeSync(fd, `\n--- ${banner} ---\n`);
  return { fd, startOffset: statSync(file).size };
}

/** The last non-empty lines one incarnation wrote (read from `startOffset` on, at most 8 KiB). */
export function readLogTail(file: string, startOffset: number, maxLines = 5): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const size = statSync(file).size;
    const from = Math.max(startOffset, size - 8192);
    const buffer = Buffer.alloc(Math.max(0, size - from));
    readSync(fd, buffer, 0, buffer.length, from);
    const lines = buffer
      .toString('utf8')
      .split('\n')
      .map((line) => line.trimEnd())
      .filter((line) => line !== '');
    return lines.slice(-maxLines);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
