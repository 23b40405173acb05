/**
 * The payments ledger, one stream per order: charges, refunds and declines. The simulated card
 * gateway answers by token (see SHOP-API.md): approved, declined, never answers, or fails
 * transiently twice before approving.
 */
import { createEventRegistry, defineCommand, defineEvent, type MessageOf } from '@causeway/core';
import { z } from 'zod';

const money = { orderId: z.string(), amountCents: z.number().int().nonnegative(), currency: z.string() };
export const charged = defineEvent({
  type: 'payments.Charged',
  schema: z.object({ ...money, paymentId: z.string() }),
});
export const refunded = defineEvent({ type: 'payments.Refunded', schema: z.object(money) });
export const declined = defineEvent({
  type: 'payments.Declined',
  schema: z.object({ orderId: z.string(), reason: z.string() }),
});
export const gatewayCalled = defineEvent({
  type: 'payments.GatewayCalled',
  schema: z.object({ orderId: z.string(), token: z.string(), call: z.number().int().positive() }),
});
export const paymentsRegistry = createEventRegistry([charged, refunded, declined, gatewayCalled]);
type PaymentEventDefinition = (typeof paymentsRegistry.definitions)[number];

/** Charge an order's total with the client's payment token. */
export const chargePayment = defineCommand({
  type: 'payments.Charge',
  schema: z.object({
    orderId: z.string().min(1),
    totalCents: z.number().int().nonnegative(),
    currency: z.string(),
    payment: z.object({ token: z.string().min(1) }),
  }),
});
/** Refund what an order was charged (the compensation of chargePayment). */
export const refundPayment = defineCommand({
  type: 'payments.Refund',
  schema: z.object({ orderId: z.string().min(1) }),
});
export const paymentsCommands = createEventRegistry([chargePayment, refundPayment]);

export const paymentStream = (orderId: string) => `payment-${orderId}`;

export interface Ledger {
  chargedCents: number;
  refundedCents: number;
  declined: boolean;
  gatewayCalls: number;
  currency: string;
}

export function ledgerOf(events: ReadonlyArray<MessageOf<PaymentEventDefinition>>): Ledger {
  const ledger: Ledger = {
    chargedCents: 0,
    refundedCents: 0,
    declined: false,
    gatewayCalls: 0,
    currency: 'USD',
  };
  for (const event of events) {
    if (event.type === 'payments.Charged') {
      ledger.chargedCents += event.data.amountCents;
      ledger.currency = event.data.currency;
    } else if (event.type === 'payments.Refunded') ledger.refundedCents += event.data.amountCents;
    else if (event.type === 'payments.Declined') ledger.declined = true;
    else if (event.type === 'payments.GatewayCalled') ledger.gatewayCalls++;
  }
  return ledger;
}

export type PaymentStatus = 'NONE' | 'CHARGED' | 'DECLINED' | 'REFUNDED';

export function statusOf(ledger: Ledger): PaymentStatus {
  if (ledger.chargedCents > 0) return ledger.refundedCents >= ledger.chargedCents ? 'REFUNDED' : 'CHARGED';
  return ledger.declined ? 'DECLINED' : 'NONE';
}

/** What the simulated gateway answers to the n-th call for an order (1-based). */
export function gatewayAnswer(
  token: string,
  call: number,
): 'approved' | 'declined' | 'no-answer' | 'transient' {
  switch (token) {
    case 'tok_visa':
      return 'approved';
    case 'tok_declined':
      return 'declined';
    case 'tok_timeout':
      return 'no-answer';
    case 'tok_flaky':
      return call <= 2 ? 'transient' : 'approved';
    default:
      return 'declined';
  }
}
