export * from './lone-event-append.ts';
export * from './read-consistency.ts';
export * from './retention.ts';
export * from './saga-row.ts';
export * from './store.ts';
