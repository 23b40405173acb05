export * from './cache-conformance/index.ts';
export * from './decider-spec.ts';
export * from './hold-sqlite-write-lock.ts';
export * from './postgres-test-database.ts';
export * from './saga-spec.ts';
export * from './services.ts';
export * from './store-conformance.ts';
export * from './transport-conformance/index.ts';
