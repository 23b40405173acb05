/**
 * Shared by the saga crash test and its child processes: the saga (saga-world.ts's PlaceOrder,
 * reserve → charge → ship, with a cancellable shipment), the roles, what each child is told (as
 * JSON in argv) and the kinds of kill.
 */
import {
  command,
  createEventRegistry,
  defineCommand,
  defineSaga,
  type EventRegistry,
  step,
} from '@causeway/core';
import { z } from 'zod';
import {
  inventoryCommands,
  type OrderData,
  paymentsCommands,
  processPayment,
  reserveInventory,
} from '../sagas/saga-world.ts';
import type { CrashStoreSpec, CrashTransportSpec } from './messaging-crash-config.ts';

export interface CrashOrderData extends OrderData {
  /**
   * ok; refuse (shipping refuses the order); slow (shipping answers after the step's first
   * timeout, so the retry's success counts); stuck (shipping ships after both attempts timed out,
   * so the saga compensates and cancels the late shipment).
   */
  shipping: 'ok' | 'refuse' | 'slow' | 'stuck';
}

export const shipTimeoutMs = 1_500;
/** How old a Schedule command must be before shipping handles a slow or stuck order. */
export const shippingDelayMs = { slow: 1_800, stuck: 3_600 } as const;

const orderSchema = z.object({
  orderId: z.string().min(1),
  amountCents: z.number().int().positive(),
  card: z.enum(['ok', 'declined', 'flaky']),
  shipping: z.enum(['ok', 'refuse', 'slow', 'stuck']),
});

const scheduleShipment = defineCommand({
  type: 'shipping.Schedule',
  schema: z.object({ orderId: z.string().min(1), shipping: z.enum(['ok', 'refuse', 'slow', 'stuck']) }),
});
const cancelShipment = defineCommand({ type: 'shipping.Cancel', schema: z.object({ orderId: z.string() }) });

/** What each participant receives, validated on arrival. */
export const crashCommands: Record<'inventory' | 'payments' | 'shipping', EventRegistry> = {
  inventory: inventoryCommands,
  payments: paymentsCommands,
  shipping: createEventRegistry([scheduleShipment, cancelShipment]),
};

export const crashPlaceOrder = defineSaga<CrashOrderData>(
  'CrashPlaceOrder',
  [
    reserveInventory(),
    processPayment(),
    step('shipOrder', {
      invoke: (data) =>
        command('shipping.commands', scheduleShipment, { orderId: data.orderId, shipping: data.shipping }),
      // A timed-out step may have acted: its compensation cancels a shipment that came too late.
      compensate: (data) => command('shipping.commands', cancelShipment, { orderId: data.orderId }),
      retry: { maxAttempts: 2, initialMs: 20, maxMs: 50 },
      timeoutMs: shipTimeoutMs,
    }),
  ],
  {
    schema: orderSchema as z.ZodType<CrashOrderData>,
    // Participants never refuse a compensation, but may be dead for a while: retried on timeout.
    // 30 attempts (~100 s): in CI, behind a backlog of forward commands and repeated kills, an
    // inventory took longer than 10 attempts (~35 s) to answer a Release, and the saga went dead.
    compensationRetry: { maxAttempts: 30, initialMs: 50, maxMs: 500 },
    compensationTimeoutMs: 3_000,
  },
);

export const sagaRoles = ['orders', 'inventory', 'payments', 'shipping'] as const;
export type SagaRole = (typeof sagaRoles)[number];
export const participantRoles = ['inventory', 'payments', 'shipping'] as const;
export type ParticipantRole = (typeof participantRoles)[number];

export const sagaReplyDestination = 'orders.saga-replies';

/**
 * When a child SIGKILLs itself: at the n-th occasion of a kind (0: never), counted from its
 * start. Counts, not probabilities: an incarnation always gets some work done first, so that a
 * batch redelivered to the next one does not kill it again at once.
 */
export interface SagaKillPlan {
  /** orders: after a transition wrote the instance and its commands, before the commit. */
  midStep: number;
  /** orders: the same, for a transition of a compensating saga. */
  midCompensation: number;
  /** participant: inside the command handler's transaction, after its effect, before the commit. */
  midCommand: number;
  /** participant: after the handler's transaction committed, before the ack. */
  beforeAck: number;
  /**
   * any: the relay holds a committed batch the broker has not seen. On PostgreSQL these are
   * mostly messages handed to the relay by their own transaction (leased to it, never claimed).
   */
  beforePublish: number;
  /** any: the relay published a batch of the outbox, before it marked it published. */
  afterPublish: number;
}

export interface SagaChildConfig {
  role: SagaRole;
  /** The role's own store. */
  store: CrashStoreSpec;
  transport: CrashTransportSpec;
  kill: SagaKillPlan;
}

/** Self-kills a child reports on stdout (`kill <kind> <role>`) just before its SIGKILL. */
export const sagaSelfKillKinds = [
  'orchestrator-mid-step',
  'orchestrator-mid-compensation',
  'participant-mid-command',
  'participant-before-ack',
  'relay-before-publish',
  'relay-after-publish',
] as const;
export type SagaSelfKillKind = (typeof sagaSelfKillKinds)[number];
/** `external`: the parent's SIGKILL at a random moment. */
export type SagaKillKind = SagaSelfKillKind | 'external';
export const sagaKillKinds: readonly SagaKillKind[] = [...sagaSelfKillKinds, 'external'];
