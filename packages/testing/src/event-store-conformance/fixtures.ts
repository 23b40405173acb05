import { createEventRegistry, type Decider, defineEvent, defineProjection } from '@causeway/core';
import { z } from 'zod';

/** A small bank domain for the suites: v1 "owner" was renamed "holder" in v2. */
export const accountOpened = defineEvent({
  type: 'test.AccountOpened',
  version: 2,
  schema: z.object({ holder: z.string().min(1), currency: z.string().length(3) }),
  upcasters: { 1: (data) => ({ holder: data.owner, currency: 'USD' }) },
});
export const deposited = defineEvent({
  type: 'test.Deposited',
  schema: z.object({ amountCents: z.number().int().positive() }),
});
export const withdrawn = defineEvent({
  type: 'test.Withdrawn',
  schema: z.object({ amountCents: z.number().int().positive() }),
});
export const userRegistered = defineEvent({
  type: 'test.UserRegistered',
  schema: z.object({ userId: z.string(), name: z.string(), email: z.string().email() }),
  personal: { subject: (data) => data.userId, fields: ['name', 'email'] },
});

export const registry = createEventRegistry([accountOpened, deposited, withdrawn, userRegistered]);

export type AccountEvent =
  | { type: 'test.AccountOpened'; data: { holder: string; currency: string } }
  | { type: 'test.Deposited'; data: { amountCents: number } }
  | { type: 'test.Withdrawn'; data: { amountCents: number } };
export type AccountCommand =
  | { kind: 'open'; holder: string }
  | { kind: 'deposit'; amountCents: number }
  | { kind: 'withdraw'; amountCents: number };
export interface Account {
  open: boolean;
  holder: string | null;
  balanceCents: number;
}

export const accountDecider: Decider<Account, AccountCommand, AccountEvent> = {
  initialState: () => ({ open: false, holder: null, balanceCents: 0 }),
  decide(command, state) {
    if (command.kind === 'open')
      return state.open
        ? []
        : [{ type: 'test.AccountOpened', data: { holder: command.holder, currency: 'USD' } }];
    if (!state.open) throw new Error('account is not open');
    if (command.kind === 'deposit')
      return [{ type: 'test.Deposited', data: { amountCents: command.amountCents } }];
    if (command.amountCents > state.balanceCents) throw new Error('insufficient funds');
    return [{ type: 'test.Withdrawn', data: { amountCents: command.amountCents } }];
  },
  evolve(state, event) {
    switch (event.type) {
      case 'test.AccountOpened':
        return { ...state, open: true, holder: event.data.holder };
      case 'test.Deposited':
        return { ...state, balanceCents: state.balanceCents + event.data.amountCents };
      case 'test.Withdrawn':
        return { ...state, balanceCents: state.balanceCents - event.data.amountCents };
    }
  },
};

/** Balances per account as JSON documents, and a SQL table of deposits. */
export const balancesProjection = defineProjection({
  name: 'balances',
  collections: ['accounts'],
  tables: {
    deposits: (name) =>
      `CREATE TABLE ${name} (event_id TEXT PRIMARY KEY, account TEXT NOT NULL, amount_cents INTEGER NOT NULL)`,
  },
  handlers: {
    'test.AccountOpened': async (event, { documents }) => {
      const data = event.data as { holder: string };
      await documents.put('accounts', event.streamId, { holder: data.holder, balanceCents: 0 });
    },
    'test.Deposited': async (event, { documents, tx, table }) => {
      const account = await documents.get<{ holder: string; balanceCents: number }>(
        'accounts',
        event.streamId,
      );
      const amount = (event.data as { amountCents: number }).amountCents;
      await documents.put('accounts', event.streamId, {
        ...account,
        balanceCents: (account?.balanceCents ?? 0) + amount,
      });
      await tx.execute(
        `INSERT INTO ${table('deposits')} (event_id, account, amount_cents) VALUES ($1, $2, $3)`,
        [event.id, event.streamId, amount],
      );
    },
    'test.Withdrawn': async (event, { documents }) => {
      const account = await documents.get<{ holder: string; balanceCents: number }>(
        'accounts',
        event.streamId,
      );
      const amount = (event.data as { amountCents: number }).amountCents;
      await documents.put('accounts', event.streamId, {
        ...account,
        balanceCents: (account?.balanceCents ?? 0) - amount,
      });
    },
  },
});

/** Users by id with their personal data; redacted when the user is forgotten. */
export const usersProjection = defineProjection({
  name: 'users',
  collections: ['users'],
  handlers: {
    'test.UserRegistered': async (event, { documents }) => {
      const data = event.data as { userId: string; name: string; email: string };
      await documents.put('users', data.userId, { name: data.name, email: data.email });
    },
  },
  onForget: async (subjectId, { documents }) => {
    await documents.delete('users', subjectId);
  },
});

export function uniqueId(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`;
}
