/**
 * The projection the projection kill test runs in a child process: a balance and a deposit count
 * per account (documents) and one row per applied deposit (a table without a key, so an event
 * applied twice shows as two rows instead of failing).
 */
import { defineProjection } from '@causeway/core';

export const ledgerProjection = defineProjection({
  name: 'ledger',
  collections: ['accounts'],
  tables: {
    applied: (name) =>
      `CREATE TABLE ${name} (event_id TEXT NOT NULL, stream_id TEXT NOT NULL, amount_cents INTEGER NOT NULL)`,
  },
  handlers: {
    'test.Deposited': async (event, { documents, insert }) => {
      const amount = (event.data as { amountCents: number }).amountCents;
      const account = (await documents.get<{ balanceCents: number; deposits: number }>(
        'accounts',
        event.streamId,
      )) ?? { balanceCents: 0, deposits: 0 };
      await documents.put('accounts', event.streamId, {
        balanceCents: account.balanceCents + amount,
        deposits: account.deposits + 1,
      });
      await insert('applied', { event_id: event.id, stream_id: event.streamId, amount_cents: amount });
    },
  },
});

export const ledgerStreams = Array.from({ length: 16 }, (_, index) => `ledger-${index}`);
