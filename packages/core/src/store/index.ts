export * from './lone-event-append.ts';
export * from './retention.ts';
export * from './store.ts';
