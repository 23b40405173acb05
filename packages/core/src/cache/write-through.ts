/**
 * Write-through over any Cache: the source is written first, then the cache at the version the
 * write produced. A write that fails leaves no entry for the key (it is dropped before the write,
 * so a reader cannot keep an entry the failed write made wrong); a cache that fails after a
 * committed write does not fail the write: the entry is dropped if it can be, and expires anyway.
 */
import type { Cache } from './cache.ts';
import type { Loaded } from './read-through.ts';

export async function writeThrough<T>(
  cache: Cache,
  key: string,
  write: () => Promise<Loaded<T>>,
  options: { ttlMs: number; onCacheError?(error: unknown): void },
): Promise<T | null> {
  const cacheError = (error: unknown) => options.onCacheError?.(error);
  await cache.invalidate(key).catch(cacheError);
  const written = await write();
  try {
    await cache.set(key, written.value, { ttlMs: options.ttlMs, version: written.version });
  } catch (error) {
    cacheError(error);
    await cache.invalidate(key).catch(cacheError);
  }
  return written.value;
}
