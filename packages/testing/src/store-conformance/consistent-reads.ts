import { createEventRegistry, createEventStore, defineEvent } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type GetStore, uniqueName } from './fixtures.ts';

const registry = createEventRegistry([defineEvent({ type: 'test.Read', schema: z.object({}) })]);

/**
 * `read` at each consistency. The conformance store has no replicas, so each read runs where the
 * write went and sees it; the replica cases run against a real standby in the PostgreSQL package.
 */
export function describeConsistentReadConformance(getStore: GetStore): void {
  describe('read at a consistency', () => {
    it('strong, session (with the write’s token, or none) and eventual reads see a write made before them', async () => {
      const store = getStore();
      const events = createEventStore({ store, registry });
      const streamId = uniqueName('read');
      const { consistencyToken: token } = await events.appendToStream(streamId, [
        { type: 'test.Read', data: {} },
      ]);
      for (const options of [
        { consistency: 'strong' as const },
        { consistency: 'session' as const, token },
        { consistency: 'session' as const },
        { consistency: 'eventual' as const },
      ]) {
        const version = await store.read(options, (reads) => reads.events.streamVersion(null, streamId));
        expect(version, JSON.stringify(options)).toBe(1);
      }
    });

    it('refuses an unknown consistency and a token it did not issue, with a typed error', async () => {
      const store = getStore();
      await expect(store.read({ consistency: 'fresh' as never }, async () => 1)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      await expect(
        store.read({ consistency: 'session', token: 'cw2.nope' }, async () => 1),
      ).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    });
  });
}
