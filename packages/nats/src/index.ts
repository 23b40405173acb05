export * from './ack-durability.ts';
export {
  createNatsTransport,
  defaultDuplicateWindowMs,
  defaultStreamPrefix,
  type NatsTransportOptions,
} from './nats-transport.ts';
