/**
 * Moving one stream between shards while its writers keep writing, and the rules writers follow
 * while a shard joins. The stream is copied to its new shard (position for position, event ids
 * kept, the subjects' keys with it), then fenced on its old shard by a `causeway.StreamMoved`
 * marker appended at the version copied. While a shard joins, every append to a moving stream on
 * its old shard names the version it read, so once the marker is in no append there can succeed:
 * the writer sees the marker and writes to the new shard. A marker that fails because a writer
 * got in first means a tail to copy, and another try. Each step can run again after a crash: the
 * copy starts from what the new shard has, and a stream with its marker is done.
 */
import { ConcurrencyError } from '../errors/index.ts';
import { newMessageId } from '../message/index.ts';
import type { AppendResult, EventToStore, Store, StoredEvent } from '../store/index.ts';

export const streamMovedType = 'causeway.StreamMoved';
/** Metadata of an event copied by a move: readers of the merged log had it from its old shard. */
export const movedFromKey = 'causeway.movedFrom';

const copyPage = 1_000;

/** The stream's last event on a shard, raw (markers included). */
export async function lastEventOf(store: Store, streamId: string): Promise<StoredEvent | undefined> {
  const [last] = await store.events.readStream(null, streamId, {
    direction: 'backward',
    fromVersion: Number.MAX_SAFE_INTEGER,
    limit: 1,
  });
  return last;
}

export const isMoveMarker = (event: { type: string } | undefined) => event?.type === streamMovedType;

/** Answers the append's result, or throws its error (appendMany answers errors per request). */
export async function appendRaw(
  store: Store,
  streamId: string,
  expectedVersion: number | 'noStream',
  events: EventToStore[],
): Promise<AppendResult> {
  const [result] = await store.events.appendMany([{ streamId, expectedVersion, events }]);
  if (result instanceof Error) throw result;
  return result!;
}

/** The subjects whose keys sealed a stored event's personal fields ({ $pii: subject, v }). */
function subjectsOf(event: StoredEvent): string[] {
  if (typeof event.data !== 'object' || event.data === null) return [];
  return Object.values(event.data)
    .filter((value): value is { $pii: string } => typeof (value as { $pii?: unknown })?.$pii === 'string')
    .map((value) => value.$pii);
}

/** Gives `to` the keys (or tombstones) of the subjects in `events`, as `from` holds them. */
async function copyKeys(from: Store, to: Store, events: readonly StoredEvent[]): Promise<void> {
  const subjects = [...new Set(events.flatMap(subjectsOf))];
  if (subjects.length === 0) return;
  const keys = await from.keys.getKeys(null, subjects);
  await to.transaction(async (tx) => {
    for (const [subject, key] of keys) {
      if (key) await to.keys.getOrCreateKey(tx, subject, key);
      else await to.keys.destroyKey(tx, subject);
    }
  });
}

/** Copies the events `to` lacks, up to `version`, position for position. */
async function copyTail(from: Store, to: Store, fromShard: string, streamId: string, version: number) {
  for (let copied = await to.events.streamVersion(null, streamId); copied < version; ) {
    const events = await from.events.readStream(null, streamId, {
      direction: 'forward',
      fromVersion: copied + 1,
      limit: Math.min(copyPage, version - copied),
    });
    await copyKeys(from, to, events);
    await appendRaw(
      to,
      streamId,
      copied === 0 ? 'noStream' : copied,
      events.map(({ streamPosition: _s, globalPosition: _g, ...event }) => ({
        ...event,
        metadata: { ...event.metadata, [movedFromKey]: fromShard },
      })),
    );
    copied += events.length;
  }
}

/** Moves one stream from `from` to `to`; answers how many events it copied (0: already moved). */
export async function moveStream(
  from: { name: string; store: Store },
  to: { name: string; store: Store },
  streamId: string,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const last = await lastEventOf(from.store, streamId);
    if (!last || isMoveMarker(last)) return 0;
    await copyTail(from.store, to.store, from.name, streamId, last.streamPosition);
    try {
      await appendRaw(from.store, streamId, last.streamPosition, [
        {
          id: newMessageId(),
          type: streamMovedType,
          schemaVersion: 1,
          streamId,
          correlationId: null,
          causationId: null,
          occurredAt: new Date().toISOString(),
          metadata: {},
          data: { to: to.name, version: last.streamPosition },
        },
      ]);
      return last.streamPosition;
    } catch (error) {
      // A writer appended after the copy: copy its events too, and fence again.
      if (!(error instanceof ConcurrencyError) || attempt >= 1_000) throw error;
    }
  }
}
