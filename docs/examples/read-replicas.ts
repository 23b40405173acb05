import { createEventRegistry, createEventStore, defineEvent } from '@causeway/core';
import { createPostgresStore } from '@causeway/postgres';
import { z } from 'zod';

// A primary and a streaming replica of it (scripts/pg-replica.sh makes one on port 5433).
const primary = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const replica = process.env.POSTGRES_REPLICA_URL ?? 'postgres://postgres@127.0.0.1:5433/postgres';
const noted = defineEvent({ type: 'notes.Noted', schema: z.object({ text: z.string() }) });

// #region replicas
const store = await createPostgresStore({
  connectionString: primary,
  replicas: [{ connectionString: replica, name: 'standby' }],
  sessionWaitMs: 1_000, // how long a session read waits for the replica before reading the primary
});
const events = createEventStore({ store, registry: createEventRegistry([noted]) });
const written = await events.appendToStream('note-1', [{ type: 'notes.Noted', data: { text: 'hello' } }]);

// The reader names the consistency it needs. The write's token carries its position in the
// primary's WAL: a session read runs on a replica that has replayed that far, else on the primary.
const version = await store.read({ consistency: 'session', token: written.consistencyToken }, (reads) =>
  reads.events.streamVersion(null, 'note-1'),
);
// Each replica: reachable, lag in bytes and in time, replay paused.
const [standby] = await store.replicaStatus();
console.log(version >= 1, standby?.reachable);
// #endregion
await store.close();
