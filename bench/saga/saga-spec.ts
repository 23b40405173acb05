/**
 * What the orchestrating process and the participant processes of one saga bench run share: the
 * saga (reserve → charge → confirm), its destinations, and where each service keeps its data.
 */
import {
  command,
  createEventRegistry,
  defineCommand,
  defineSaga,
  step,
  type Transport,
} from '@causeway/core';
import { z } from 'zod';
import { openTransport, type PipelineSpec, type StoreSpec } from '../transport/setup.ts';

export type SagaTransportKind = 'embedded' | 'nats';

/** Everything a process of one run needs to open its side; passed to the participants as JSON. */
export interface SagaBenchSpec {
  transport: SagaTransportKind;
  /** Embedded: the log file. NATS: the server URL. */
  transportTarget: string;
  /** NATS stream prefix, unique per run (also the prefix of the saga ids). */
  prefix: string;
  orders: StoreSpec;
  inventory: StoreSpec;
  payments: StoreSpec;
  /** Deliveries in flight in each participant's consumer. */
  maxInFlight: number;
}

export type ParticipantRole = 'inventory' | 'payments';

export const destinations = {
  replies: 'orders.saga-replies',
  inventory: 'inventory.commands',
  payments: 'payments.commands',
} as const;

export interface BenchOrder {
  orderId: string;
  amountCents: number;
}

const orderRef = z.object({ orderId: z.string() });
const reserve = defineCommand({ type: 'inventory.Reserve', schema: orderRef });
const release = defineCommand({ type: 'inventory.Release', schema: orderRef });
const confirm = defineCommand({ type: 'inventory.Confirm', schema: orderRef });
const charge = defineCommand({
  type: 'payments.Charge',
  schema: z.object({ orderId: z.string(), amountCents: z.number().int() }),
});
const refund = defineCommand({ type: 'payments.Refund', schema: orderRef });
/** The commands each participant receives, validated on arrival like any consumer's messages. */
export const inventoryCommands = createEventRegistry([reserve, release, confirm]);
export const paymentsCommands = createEventRegistry([charge, refund]);

/**
 * Three steps over two participants: inventory reserves, payments charges, inventory confirms.
 * The first two have compensations (never needed here: every step succeeds); no timeouts.
 */
export const benchOrder = defineSaga<BenchOrder>('BenchOrder', [
  step('reserve', {
    invoke: (data) => command(destinations.inventory, reserve, { orderId: data.orderId }),
    compensate: (data) => command(destinations.inventory, release, { orderId: data.orderId }),
  }),
  step('charge', {
    invoke: (data) =>
      command(destinations.payments, charge, {
        orderId: data.orderId,
        amountCents: data.amountCents,
      }),
    compensate: (data) => command(destinations.payments, refund, { orderId: data.orderId }),
  }),
  step('confirm', {
    invoke: (data) => command(destinations.inventory, confirm, { orderId: data.orderId }),
  }),
]);

/** The last step: its successful reply, once handled and committed, completes the saga. */
export const lastStep = 'confirm';

/** The transport bench's shape for openTransport/removeBrokerState (only embedded and NATS here). */
export function pipelineSpecOf(spec: SagaBenchSpec): PipelineSpec {
  return {
    transport: spec.transport,
    transportTarget: spec.transportTarget,
    prefix: spec.prefix,
    destination: destinations.replies,
    group: 'orders',
    producer: spec.orders,
    consumer: spec.inventory,
    maxInFlight: spec.maxInFlight,
  };
}

export function openSagaTransport(spec: SagaBenchSpec): Transport {
  return openTransport(pipelineSpecOf(spec));
}
