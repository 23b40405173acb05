import { deciderSpec } from '@causeway/testing';
import { describe, it } from 'vitest';
import { bankAccount } from './bank-account.ts';

const opened = {
  type: 'bank.AccountOpened' as const,
  data: { accountId: 'acc-1', holder: 'Ada', currency: 'EUR' },
};

describe('bank account decider', () => {
  const spec = deciderSpec(bankAccount);
  it('opens once', () => {
    spec.given([]).when({ kind: 'open', accountId: 'acc-1', holder: 'Ada', currency: 'EUR' }).then([opened]);
    spec
      .given([opened])
      .when({ kind: 'open', accountId: 'acc-1', holder: 'Ada', currency: 'EUR' })
      .thenThrows(/already open/);
  });
  it('deposits and withdraws within the balance', () => {
    spec
      .given([opened])
      .when({ kind: 'deposit', amountCents: 500 })
      .then([{ type: 'bank.Deposited', data: { amountCents: 500 } }]);
    spec
      .given([opened, { type: 'bank.Deposited', data: { amountCents: 500 } }])
      .when({ kind: 'withdraw', amountCents: 200 })
      .thenState({ status: 'open', holder: 'Ada', balanceCents: 300 });
  });
  it('refuses overdrafts and movements on closed accounts', () => {
    spec
      .given([opened])
      .when({ kind: 'withdraw', amountCents: 1 })
      .thenThrows(/Insufficient funds/);
    spec
      .given([])
      .when({ kind: 'deposit', amountCents: 1 })
      .thenThrows(/not open/);
  });
});
