/**
 * Write-then-rename: an export is written under a temporary name beside its target and renamed
 * into place, so a reader finds the old export or the new one, never a half-written file.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh name beside `target` (same directory, so the rename stays on one filesystem). */
export function temporaryNameFor(target: string): string {
  return join(
    dirname(target),
    `.${basename(target)}.exporting-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/** Renames `written` over the file `target` (rename(2) replaces a file atomically). */
export async function replaceFile(written: string, target: string): Promise<void> {
  await rename(written, target);
}

/**
 * Swaps the directory `written` in for `target`. A directory cannot be renamed over a non-empty one,
 * so the old one moves aside first: for that instant `target` is missing (a reader retries), but it
 * never holds a mix of two exports. The old directory is deleted afterwards.
 */
export async function replaceDirectory(written: string, target: string): Promise<void> {
  const aside = `${temporaryNameFor(target)}-old`;
  const hadOne = await rename(target, aside).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  await rename(written, target);
  if (hadOne) await rm(aside, { recursive: true, force: true });
}

/** Removes a temporary export left by a failed attempt; never throws. */
export async function discard(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => undefined);
}
