import {
  createEventRegistry,
  type Decider,
  defineEvent,
  defineProjection,
  type ProjectionContext,
} from '@causeway/core';
import { z } from 'zod';

export const accountOpened = defineEvent({
  type: 'bank.AccountOpened',
  schema: z.object({ accountId: z.string(), holder: z.string().min(1), currency: z.string().length(3) }),
  personal: { subject: (data) => data.accountId, fields: ['holder'] },
});
export const deposited = defineEvent({
  type: 'bank.Deposited',
  schema: z.object({ amountCents: z.number().int().positive() }),
});
export const withdrawn = defineEvent({
  type: 'bank.Withdrawn',
  schema: z.object({ amountCents: z.number().int().positive() }),
});
export const bankRegistry = createEventRegistry([accountOpened, deposited, withdrawn]);

export type BankEvent =
  | { type: 'bank.AccountOpened'; data: z.infer<typeof accountOpened.schema> }
  | { type: 'bank.Deposited'; data: { amountCents: number } }
  | { type: 'bank.Withdrawn'; data: { amountCents: number } };

export type BankCommand =
  | { kind: 'open'; accountId: string; holder: string; currency: string }
  | { kind: 'deposit'; amountCents: number }
  | { kind: 'withdraw'; amountCents: number };

export interface Account {
  status: 'none' | 'open';
  holder: string | null;
  balanceCents: number;
}

/** Business rules only: no I/O. Refusals are plain errors the caller shows to the user. */
export const bankAccount: Decider<Account, BankCommand, BankEvent> = {
  initialState: () => ({ status: 'none', holder: null, balanceCents: 0 }),
  decide(command, state) {
    switch (command.kind) {
      case 'open':
        if (state.status === 'open') throw new Error('Account is already open');
        return [
          {
            type: 'bank.AccountOpened',
            data: { accountId: command.accountId, holder: command.holder, currency: command.currency },
          },
        ];
      case 'deposit':
        if (state.status !== 'open') throw new Error('Account is not open');
        return [{ type: 'bank.Deposited', data: { amountCents: command.amountCents } }];
      case 'withdraw':
        if (state.status !== 'open') throw new Error('Account is not open');
        if (command.amountCents > state.balanceCents)
          throw new Error(`Insufficient funds: balance is ${state.balanceCents} cents`);
        return [{ type: 'bank.Withdrawn', data: { amountCents: command.amountCents } }];
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case 'bank.AccountOpened':
        return { status: 'open', holder: event.data.holder, balanceCents: 0 };
      case 'bank.Deposited':
        return { ...state, balanceCents: state.balanceCents + event.data.amountCents };
      case 'bank.Withdrawn':
        return { ...state, balanceCents: state.balanceCents - event.data.amountCents };
    }
  },
};

/** A read model: balance and number of movements per account. */
export const balancesProjection = defineProjection({
  name: 'bank_balances',
  registry: bankRegistry,
  collections: ['balances'],
  handlers: {
    'bank.AccountOpened': (event, { documents }) =>
      documents.put('balances', event.streamId, { balanceCents: 0, movements: 0 }),
    'bank.Deposited': (event, context) => move(event.streamId, event.data.amountCents, context),
    'bank.Withdrawn': (event, context) => move(event.streamId, -event.data.amountCents, context),
  },
});

async function move(accountId: string, deltaCents: number, { documents }: ProjectionContext) {
  const current = (await documents.get<{ balanceCents: number; movements: number }>(
    'balances',
    accountId,
  )) ?? { balanceCents: 0, movements: 0 };
  await documents.put('balances', accountId, {
    balanceCents: current.balanceCents + deltaCents,
    movements: current.movements + 1,
  });
}
