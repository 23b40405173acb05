export type {
  Change,
  ChangeOperation,
  ChangeOrigin,
  ChangeTransaction,
  LogicalMessage,
  Row,
} from './change.ts';
export { type ChangeMessageOptions, changeOrderingKey, toTransportMessage } from './change-message.ts';
export {
  type ChangeHandler,
  type ChangeSourceStatus,
  createPostgresChangeSource,
  type PostgresChangeSource,
  type PostgresChangeSourceOptions,
} from './postgres-change-source.ts';
export { createTransportChangeSink } from './transport-change-sink.ts';
export {
  createWalOutboxRelay,
  type WalOutboxRelay,
  type WalOutboxRelayOptions,
  type WalOutboxRelayStatus,
} from './wal-outbox-relay.ts';
