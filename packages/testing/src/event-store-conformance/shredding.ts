import {
  createCommandHandler,
  createEventStore,
  createProjectionRunner,
  createReadModelReader,
  type Decider,
  redactedMarker,
  type Store,
  SubjectForgottenError,
} from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { registry, uniqueId, usersProjection } from './fixtures.ts';

type Profile = { name: string | null; email: string | null };
type ProfileEvent = { type: 'test.UserRegistered'; data: { userId: string; name: string; email: string } };
const profileDecider: Decider<Profile, { name: string; email: string; userId: string }, ProfileEvent> = {
  initialState: () => ({ name: null, email: null }),
  decide: (command) => [{ type: 'test.UserRegistered', data: command }],
  evolve: (_state, event) => ({ name: event.data.name, email: event.data.email }),
};

/** `openStore` must give a fresh, empty store: the projection here reads the whole log. */
export function describeShredding(
  openStore: () => Promise<Store>,
  readRawBytes?: (store: Store) => Promise<string>,
) {
  describe('crypto-shredding', () => {
    it('encrypts personal fields and, once forgotten, redacts them everywhere', async () => {
      const store = await openStore();
      try {
        const eventStore = createEventStore({ store, registry });
        const userId = uniqueId('user');
        const email = `${userId}@example.com`;
        const profiles = createCommandHandler({
          eventStore,
          decider: profileDecider,
          snapshot: { aggregateType: 'profile', every: 1, version: 1, subject: (_s, stream) => stream },
        });
        await profiles.handle(userId, { userId, name: 'Ada Lovelace', email });
        const runner = createProjectionRunner({ eventStore, projections: [usersProjection], idlePollMs: 20 });
        await runner.start();
        const last = await eventStore.appendToStream(uniqueId('other'), [
          { type: 'test.Deposited', data: { amountCents: 1 } },
        ]);
        await runner.waitFor('users', last.consistencyToken);
        const users = createReadModelReader(store, usersProjection);
        expect(await users.get('users', userId)).toEqual({ name: 'Ada Lovelace', email });
        expect((await eventStore.readStream(userId))[0]?.data).toMatchObject({ name: 'Ada Lovelace' });

        const raw = await store.events.readStream(null, userId, {
          direction: 'forward',
          fromVersion: 1,
          limit: 10,
        });
        expect(JSON.stringify(raw)).not.toContain('Ada Lovelace');
        expect(JSON.stringify(await store.snapshots.load(null, userId))).not.toContain('Ada Lovelace');

        await eventStore.forgetSubject(userId);
        const forgotten = await eventStore.readStream(userId);
        expect(forgotten[0]?.data).toEqual({ userId, name: redactedMarker, email: redactedMarker });
        const global = await eventStore.readAll({ position: 0 }, { limit: 1000 });
        expect(JSON.stringify(global.events)).not.toContain('Ada Lovelace');
        expect(await store.snapshots.load(null, userId)).toBeNull();
        expect((await profiles.load(userId)).state).toEqual({ name: redactedMarker, email: redactedMarker });

        const after = await eventStore.appendToStream(uniqueId('other'), [
          { type: 'test.Deposited', data: { amountCents: 1 } },
        ]);
        await runner.waitFor('users', after.consistencyToken);
        expect(await users.get('users', userId)).toBeNull();
        // A rebuild replays the registration (now redacted) and then the forget itself.
        const replayed: unknown[] = [];
        await runner.rebuild('users', { onProgress: () => replayed.push(true) });
        expect(replayed.length).toBeGreaterThan(0);
        expect(await users.get('users', userId)).toBeNull();
        expect(global.events.find((e) => e.streamId === userId)?.data).toMatchObject({
          name: redactedMarker,
        });
        await runner.stop();

        await expect(profiles.handle(userId, { userId, name: 'Ada again', email })).rejects.toBeInstanceOf(
          SubjectForgottenError,
        );
        if (readRawBytes) {
          const bytes = await readRawBytes(store);
          expect(bytes).not.toContain('Ada Lovelace');
          expect(bytes).not.toContain(email);
        }
      } finally {
        await store.close();
      }
    });
  });
}
