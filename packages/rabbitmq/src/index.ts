export * from './rabbitmq-errors.ts';
export * from './rabbitmq-topology.ts';
export * from './rabbitmq-transport.ts';
