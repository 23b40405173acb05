/**
 * The Cache port's contract, run by every cache: values round-trip as JSON, entries expire, a set
 * of an older version than the entry or the invalidation the key holds is refused, a late
 * invalidation leaves a newer value, loader locks are exclusive, expire and are released only by
 * their holder, and over it read-through loads a missing key once however many readers ask. With
 * `shared`, `open` gives clients of one cache (as several processes are): what one writes or locks,
 * another sees.
 */
import { type Cache, createReadThrough, invalidateOnEvent, writeThrough } from '@causeway/core';
import { afterEach, describe, expect, it } from 'vitest';

export interface CacheConformanceOptions {
  /** Whether two caches `open` returns share their entries and locks (Redis: yes; in-process: no). */
  shared: boolean;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let keys = 0;
const newKey = () => `conformance-${process.pid}-${Date.now()}-${keys++}`;

export function describeCacheConformance(
  name: string,
  open: () => Promise<Cache>,
  options: CacheConformanceOptions,
): void {
  describe(`Cache conformance: ${name}`, () => {
    const opened: Cache[] = [];
    afterEach(async () => {
      for (const cache of opened.splice(0)) await cache.close();
    });
    const cache = async () => {
      const opening = await open();
      opened.push(opening);
      return opening;
    };
    /** Two clients of one cache when shared; else one client twice. */
    const pair = async (): Promise<[Cache, Cache]> => {
      const first = await cache();
      return [first, options.shared ? await cache() : first];
    };

    it('round-trips values as JSON with their version, and has nothing for a key never set', async () => {
      const [writer, reader] = await pair();
      const key = newKey();
      expect(await reader.get(key)).toBeUndefined();
      for (const value of [{ id: 'p1', priceCents: 450, tags: ['tea'] }, null, 42, 'text']) {
        expect(await writer.set(key, value, { ttlMs: 10_000, version: 3 })).toBe(true);
        expect(await reader.get(key)).toMatchObject({ value, version: 3 });
      }
    });

    it('expires an entry after its TTL, and says until when it is fresh', async () => {
      const [writer, reader] = await pair();
      const key = newKey();
      const before = Date.now();
      await writer.set(key, 'soon gone', { ttlMs: 200, freshMs: 50 });
      const entry = await reader.get(key);
      expect(entry?.freshUntil).toBeGreaterThanOrEqual(before + 50);
      expect(entry?.freshUntil).toBeLessThan(before + 200);
      await expect.poll(() => reader.get(key), { timeout: 3_000, interval: 50 }).toBeUndefined();
    });

    it('refuses a set older than the entry, and takes an equal or newer one', async () => {
      const [first, second] = await pair();
      const key = newKey();
      expect(await first.set(key, 'v2', { ttlMs: 10_000, version: 2 })).toBe(true);
      expect(await second.set(key, 'v1', { ttlMs: 10_000, version: 1 })).toBe(false);
      expect((await first.get(key))?.value).toBe('v2');
      expect(await second.set(key, 'v2 again', { ttlMs: 10_000, version: 2 })).toBe(true);
      expect(await second.set(key, 'v3', { ttlMs: 10_000, version: 3 })).toBe(true);
      expect(await first.get(key)).toMatchObject({ value: 'v3', version: 3 });
    });

    it('after an invalidation at a version, refuses values read before it and takes those read at or after it', async () => {
      const [first, second] = await pair();
      const key = newKey();
      await first.set(key, 'v4', { ttlMs: 10_000, version: 4 });
      await second.invalidate(key, { version: 5, ttlMs: 10_000 });
      expect(await first.get(key)).toBeUndefined();
      // A reader that loaded before the change comes back late with version 4.
      expect(await first.set(key, 'v4 late', { ttlMs: 10_000, version: 4 })).toBe(false);
      expect(await first.get(key)).toBeUndefined();
      expect(await first.set(key, 'v5', { ttlMs: 10_000, version: 5 })).toBe(true);
      expect((await second.get(key))?.value).toBe('v5');
    });

    it('leaves a newer value where it is when an older invalidation arrives late; a plain invalidation drops any', async () => {
      const [first, second] = await pair();
      const key = newKey();
      await first.set(key, 'v7', { ttlMs: 10_000, version: 7 });
      await second.invalidate(key, { version: 6, ttlMs: 10_000 });
      expect((await first.get(key))?.value).toBe('v7');
      await second.invalidate(key);
      expect(await first.get(key)).toBeUndefined();
      expect(await first.set(key, 'unversioned', { ttlMs: 10_000 })).toBe(true);
    });

    it('gives a key’s loader lock to one holder, frees it on unlock by its token only, and when it expires', async () => {
      const [first, second] = await pair();
      const key = newKey();
      const token = await first.lock(key, 300);
      expect(token).toEqual(expect.any(String));
      expect(await second.lock(key, 300)).toBeNull();
      await second.unlock(key, 'not-the-token');
      expect(await second.lock(key, 300)).toBeNull();
      await first.unlock(key, token!);
      const again = await second.lock(key, 150);
      expect(again).toEqual(expect.any(String));
      await pause(300);
      expect(await first.lock(key, 150)).toEqual(expect.any(String));
    });

    it('read-through: 200 readers of a missing key (over two clients when shared) cause one load', async () => {
      const [first, second] = await pair();
      const key = newKey();
      let loads = 0;
      const load = async () => {
        loads += 1;
        await pause(100);
        return { value: { loadedAt: loads }, version: 1 };
      };
      const readers = [first, second].map((each) => createReadThrough({ cache: each, load, ttlMs: 10_000 }));
      const answers = await Promise.all(
        Array.from({ length: 200 }, (_, index) => readers[index % 2]!.get(key)),
      );
      expect(loads).toBe(1);
      expect(new Set(answers.map((answer) => JSON.stringify(answer)))).toEqual(new Set(['{"loadedAt":1}']));
    });

    it('read-through: a slow load that read before an invalidation does not put its value back', async () => {
      const shared = await cache();
      const key = newKey();
      let version = 1;
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let hasRead: () => void = () => {};
      // Not a pause: on a busy machine the cache's round trips before the load can take longer.
      const loadHasRead = new Promise<void>((resolve) => {
        hasRead = resolve;
      });
      const reader = createReadThrough({
        cache: shared,
        ttlMs: 10_000,
        load: async () => {
          const read = { value: `v${version}`, version };
          hasRead();
          await held;
          return read;
        },
      });
      const slow = reader.get(key);
      await loadHasRead;
      version = 2;
      await shared.invalidate(key, { version: 2, ttlMs: 10_000 });
      release();
      expect(await slow).toBe('v1');
      expect(await shared.get(key)).toBeUndefined();
      expect(await reader.get(key)).toBe('v2');
      expect(await shared.get(key)).toMatchObject({ value: 'v2', version: 2 });
    });

    it('read-through caches "not found" for its own TTL, and serves a stale value while one reload runs', async () => {
      const shared = await cache();
      const key = newKey();
      let loads = 0;
      let value: string | null = null;
      const reader = createReadThrough({
        cache: shared,
        ttlMs: 10_000,
        freshMs: 100,
        notFoundTtlMs: 200,
        jitter: 0,
        load: async () => {
          loads += 1;
          await pause(50);
          return { value, version: loads };
        },
      });
      expect(await reader.get(key)).toBeNull();
      value = 'arrived';
      expect(await reader.get(key)).toBeNull(); // cached as not found
      expect(loads).toBe(1);
      await pause(300);
      expect(await reader.get(key)).toBe('arrived');
      expect(loads).toBe(2);
      value = 'changed';
      await pause(150); // past freshMs, within the TTL
      const stale = await Promise.all([reader.get(key), reader.get(key), reader.get(key)]);
      expect(stale).toEqual(['arrived', 'arrived', 'arrived']);
      await expect.poll(() => reader.get(key), { timeout: 2_000, interval: 20 }).toBe('changed');
      expect(loads).toBe(3);
      expect(reader.stats.stale).toBeGreaterThanOrEqual(3);
    });

    it('read-through peek answers only a fresh hit of a cache in this process, at once', async () => {
      const shared = await cache();
      const key = newKey();
      const reader = createReadThrough({
        cache: shared,
        ttlMs: 10_000,
        freshMs: 100,
        jitter: 0,
        load: async () => ({ value: 'v1', version: 1 }),
      });
      expect(reader.peek(key)).toBeUndefined();
      expect(await reader.get(key)).toBe('v1');
      // A shared cache is never read without waiting: peek leaves it to get.
      expect(reader.peek(key)).toBe(options.shared ? undefined : 'v1');
      await pause(150); // past freshMs: stale, for get to serve and reload
      expect(reader.peek(key)).toBeUndefined();
      expect(await reader.get(key)).toBe('v1');
      await expect
        .poll(() => reader.peek(key) ?? 'none', { timeout: 2_000, interval: 20 })
        .toBe(options.shared ? 'none' : 'v1');
      await shared.invalidate(key, { version: 2, ttlMs: 10_000 });
      expect(reader.peek(key)).toBeUndefined();
    });

    it('event-driven invalidation: an event handled on one instance drops the entry another cached, and its late old read stays out', async () => {
      const [instanceA, instanceB] = await pair();
      const key = newKey();
      let version = 3;
      const readerOf = (each: Cache) =>
        createReadThrough({
          cache: each,
          ttlMs: 10_000,
          load: async () => ({ value: `v${version}`, version }),
        });
      expect(await readerOf(instanceA).get(key)).toBe('v3');
      // The source changes to version 4; instance B's consumer handles the event.
      version = 4;
      const onChanged = invalidateOnEvent(instanceB, {
        keyOf: (event: { streamPosition: number; data: { id: string } }) => event.data.id,
        ttlMs: 10_000,
      });
      await onChanged({ streamPosition: 4, data: { id: key } });
      expect(await instanceA.get(key)).toBeUndefined();
      // A reader that loaded version 3 before the event answers late: refused.
      expect(await instanceA.set(key, 'v3', { ttlMs: 10_000, version: 3 })).toBe(false);
      expect(await readerOf(instanceA).get(key)).toBe('v4');
      // An event redelivered (or arriving late) leaves the newer entry in place.
      await onChanged({ streamPosition: 4, data: { id: key } });
      await onChanged({ streamPosition: 2, data: { id: key } });
      expect(await instanceB.get(key)).toMatchObject({ value: 'v4', version: 4 });
    });

    it('write-through: a failed write leaves no entry; a write that commits is cached at its version', async () => {
      const shared = await cache();
      const key = newKey();
      await shared.set(key, 'before', { ttlMs: 10_000, version: 1 });
      await expect(
        writeThrough(
          shared,
          key,
          async () => {
            throw new Error('the database refused');
          },
          { ttlMs: 10_000 },
        ),
      ).rejects.toThrow('the database refused');
      expect(await shared.get(key)).toBeUndefined();
      expect(
        await writeThrough(shared, key, async () => ({ value: 'after', version: 2 }), { ttlMs: 10_000 }),
      ).toBe('after');
      expect(await shared.get(key)).toMatchObject({ value: 'after', version: 2 });
    });
  });
}
