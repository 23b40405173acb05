/**
 * The payments service: a participant of the PlaceOrder saga (charge, refund). Exactly one charge
 * per order whatever the redeliveries: the charge and the reply commit together, and a repeated
 * command finds the recorded step (sagaParticipant) or the charge already in the ledger.
 */
import { randomUUID } from 'node:crypto';
import {
  causedBy,
  createConsumer,
  type Message,
  type NewMessageOf,
  sagaParticipant,
  stepFailed,
  stepSucceeded,
  stepUnanswered,
  type Transaction,
} from '@causeway/core';
import { z } from 'zod';
import { parseInput, pathId } from '../../platform/http-input.ts';
import { runService } from '../../platform/service-runtime.ts';
import { appendAt, readStreamAt } from '../../platform/stream-at-version.ts';
import {
  gatewayAnswer,
  ledgerOf,
  paymentStream,
  paymentsCommands,
  paymentsRegistry,
  statusOf,
} from './payments-domain.ts';

type PaymentEvent = NewMessageOf<(typeof paymentsRegistry.definitions)[number]>;
const orderParams = z.object({ orderId: pathId });

await runService({
  name: 'payments',
  registry: paymentsRegistry,
  async setup({ app, eventStore, store, transport, addConsumer, consumerLogs }) {
    const readLedger = async (orderId: string, tx: Transaction | null) => {
      const { events, version } = await readStreamAt(eventStore, paymentStream(orderId), tx);
      return { ledger: ledgerOf(events), version };
    };
    // Stamped with the command's flow, so the dashboard follows an order into this service.
    const append = (orderId: string, version: number, event: PaymentEvent, tx: Transaction, cause: Message) =>
      appendAt(eventStore, paymentStream(orderId), version, event, { tx, ...causedBy(cause) });

    app.get('/payments/:orderId', async (request) => {
      const { orderId } = parseInput(orderParams, request.params, 'path');
      const { ledger } = await readLedger(orderId, null);
      return {
        orderId,
        status: statusOf(ledger),
        chargedCents: ledger.chargedCents,
        refundedCents: ledger.refundedCents,
        currency: ledger.currency,
      };
    });

    addConsumer(
      createConsumer({
        name: 'payments',
        store,
        transport,
        ...consumerLogs,
        destinations: ['payments.commands'],
        registry: paymentsCommands,
        handlers: sagaParticipant(store, paymentsCommands, {
          'payments.Charge': async (command, { tx }) => {
            const order = command.data;
            const { ledger, version } = await readLedger(order.orderId, tx);
            if (ledger.chargedCents > 0) return stepSucceeded({ chargedCents: ledger.chargedCents });
            const call = ledger.gatewayCalls + 1;
            await append(
              order.orderId,
              version,
              {
                type: 'payments.GatewayCalled',
                data: { orderId: order.orderId, token: order.payment.token, call },
              },
              tx,
              command,
            );
            switch (gatewayAnswer(order.payment.token, call)) {
              case 'approved': {
                const paymentId = randomUUID();
                await append(
                  order.orderId,
                  version + 1,
                  {
                    type: 'payments.Charged',
                    data: {
                      orderId: order.orderId,
                      amountCents: order.totalCents,
                      currency: order.currency,
                      paymentId,
                    },
                  },
                  tx,
                  command,
                );
                return stepSucceeded({ paymentId, chargedCents: order.totalCents });
              }
              case 'declined':
                await append(
                  order.orderId,
                  version + 1,
                  { type: 'payments.Declined', data: { orderId: order.orderId, reason: 'card declined' } },
                  tx,
                  command,
                );
                // Retrying cannot change the bank's answer: the saga compensates at once.
                return stepFailed('card declined', { retryable: false });
              case 'transient':
                return stepFailed(`payment gateway unavailable (call ${call}), try again`);
              case 'no-answer':
                return stepUnanswered();
            }
          },
          'payments.Refund': async (command, { tx }) => {
            const { orderId } = command.data;
            const { ledger, version } = await readLedger(orderId, tx);
            const owed = ledger.chargedCents - ledger.refundedCents;
            if (owed > 0) {
              await append(
                orderId,
                version,
                {
                  type: 'payments.Refunded',
                  data: { orderId, amountCents: owed, currency: ledger.currency },
                },
                tx,
                command,
              );
            }
            return stepSucceeded({ refundedCents: owed });
          },
        }),
      }),
    );
  },
});
