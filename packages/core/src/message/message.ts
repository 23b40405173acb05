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

export function newMessageId(): MessageId {
  return uuidv7();
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
