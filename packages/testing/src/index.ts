export * from './decider-spec.ts';
export * from './postgres-test-database.ts';
export * from './services.ts';
export * from './store-conformance.ts';
