export * from './event-codec.ts';
export * from './event-store.ts';
