export * from './ack-durability.ts';
export { deleteStreamsWithPrefix } from './nats-stream-cleanup.ts';
export {
  createNatsTransport,
  defaultDuplicateWindowMs,
  defaultStreamPrefix,
  type NatsTransportOptions,
} from './nats-transport.ts';
