export * from './errors/index.ts';
export * from './message/index.ts';
export * from './store/index.ts';
