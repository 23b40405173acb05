export * from './retention.ts';
export * from './store.ts';
