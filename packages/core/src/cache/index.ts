export * from './cache.ts';
export * from './invalidation.ts';
export * from './memory-cache.ts';
export * from './outage-reporting.ts';
export * from './read-through.ts';
export * from './write-back.ts';
export * from './write-through.ts';
