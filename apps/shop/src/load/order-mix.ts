/** Which payment token each order uses, and what the shop must make of it. */

export const paymentTokens = ['tok_visa', 'tok_declined', 'tok_flaky', 'tok_timeout'] as const;
export type PaymentToken = (typeof paymentTokens)[number];

export type FinalStatus = 'CONFIRMED' | 'CANCELLED';

/** What the contract promises for each token (SHOP-API.md, "Payment tokens"). */
export const expectedStatus: Record<PaymentToken, FinalStatus> = {
  tok_visa: 'CONFIRMED',
  tok_declined: 'CANCELLED',
  tok_flaky: 'CONFIRMED',
  tok_timeout: 'CANCELLED',
};

/**
 * Mostly tok_visa, 10 % tok_declined, 10 % tok_flaky and, with timeouts, 2 % tok_timeout (at
 * least one: each holds a client for the whole payment timeout). Exact counts, shuffled, so a
 * short run still shows every kind.
 */
export function paymentTokenMix(orders: number, withTimeouts: boolean, random = Math.random): PaymentToken[] {
  const declined = Math.round(orders * 0.1);
  const flaky = Math.round(orders * 0.1);
  const timeout = withTimeouts && orders > 0 ? Math.max(1, Math.round(orders * 0.02)) : 0;
  const special = [
    ...Array<PaymentToken>(declined).fill('tok_declined'),
    ...Array<PaymentToken>(flaky).fill('tok_flaky'),
    ...Array<PaymentToken>(timeout).fill('tok_timeout'),
  ].slice(0, orders);
  const tokens = [...special, ...Array<PaymentToken>(orders - special.length).fill('tok_visa')];
  for (let index = tokens.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [tokens[index], tokens[other]] = [tokens[other]!, tokens[index]!];
  }
  return tokens;
}
