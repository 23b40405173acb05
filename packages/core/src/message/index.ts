export * from './event-registry.ts';
export * from './message.ts';
