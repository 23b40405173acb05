import { validate as isUuid, v7 as uuidv7 } from 'uuid';

/** Unique id of a message (uuid v7: time-ordered); the dedupe key of inboxes and appends. */
export type MessageId = string;

export type Metadata = Readonly<Record<string, unknown>>;

/**
 * The one envelope of every event, command and reply (DESIGN.md §3). `streamPosition` and
 * `globalPosition` are assigned by the store when the message is an appended event.
 */
export interface Message<Data = unknown, Type extends string = string> {
  readonly id: MessageId;
  readonly type: Type;
  readonly schemaVersion: number;
  readonly streamId: string;
  readonly streamPosition: number;
  readonly globalPosition: number;
  readonly correlationId: string | null;
  readonly causationId: string | null;
  readonly occurredAt: string;
  readonly metadata: Metadata;
  readonly data: Data;
}

/** What a caller supplies to append or send; the store fills in the rest. */
export interface NewMessage<Data = unknown, Type extends string = string> {
  readonly type: Type;
  readonly data: Data;
  readonly id?: MessageId;
  readonly metadata?: Metadata;
  readonly occurredAt?: string;
}

// One getRandomValues call per 256 ids: drawing 16 bytes from the OS per id cost more than
// everything else an append does in JavaScript.
const randomPool = new Uint8Array(16 * 256);
let poolOffset = randomPool.length;

/** A fresh uuid v7 (time-ordered, 74 random bits). */
export function newMessageId(): MessageId {
  if (poolOffset === randomPool.length) {
    crypto.getRandomValues(randomPool);
    poolOffset = 0;
  }
  const random = randomPool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return uuidv7({ random });
}

export function isMessageId(value: unknown): value is MessageId {
  return typeof value === 'string' && isUuid(value);
}

/** Tenant, trace and actor travel in metadata; these are the keys Causeway itself reads. */
export const metadataKeys = {
  tenant: 'tenant',
  traceparent: 'traceparent',
  actor: 'actor',
} as const;
