export * from './backoff.ts';
export * from './consumer.ts';
export * from './outbox-relay.ts';
export * from './publish-traced.ts';
