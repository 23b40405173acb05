/**
 * What the messaging crash test's parent tells each child process (as JSON in argv): which
 * store and transport to open, and where and how often to SIGKILL itself.
 */

export type CrashStoreSpec =
  | { kind: 'sqlite'; filename: string }
  | { kind: 'postgres'; url: string; schema: string };

export type CrashTransportSpec =
  | { kind: 'embedded'; filename: string; partitions?: number; pollIntervalMs?: number }
  | { kind: 'nats'; servers: string; streamPrefix: string; partitions?: number }
  | {
      kind: 'rabbitmq';
      url: string;
      prefix: string;
      partitions?: number;
      /** Groups declared before the first publish: RabbitMQ rejects a message no queue receives. */
      topology: Record<string, string[]>;
    };

/** Self-kill probabilities, each checked once per publish (relay) or per ack (consumer). */
export interface CrashKillPlan {
  /** The relay dies after the broker confirmed a whole batch, before markPublished. */
  afterPublish: number;
  /** The relay publishes only the first part of a batch, then dies. */
  midBatch: number;
  /** The consumer dies after the handler's transaction committed, before the ack. */
  beforeAck: number;
}

export interface CrashChildConfig {
  role: 'relay' | 'consumer';
  store: CrashStoreSpec;
  transport: CrashTransportSpec;
  /** Where service A's events are published; the consumer group `group` subscribes to it. */
  destination: string;
  group: string;
  /** The destination of the consumer handler's own outbox rows (never relayed in the test). */
  replyDestination: string;
  kill: CrashKillPlan;
  relay: {
    batchSize: number;
    leaseMs: number;
    idlePollMs: number;
    /** `wal`: the relay reads the outbox from this replication slot (PostgreSQL, wal_level=logical). */
    wal?: { slot: string };
  };
  consumer: { maxInFlight: number; ackTimeoutMs: number };
}

/** Self-kill reasons a child reports on stdout (`kill <kind> ...`) just before its SIGKILL. */
export const selfKillKinds = ['relay-after-publish', 'relay-mid-batch', 'consumer-before-ack'] as const;
export type SelfKillKind = (typeof selfKillKinds)[number];
