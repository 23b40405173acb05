export * from './partition.ts';
export * from './transport.ts';
