export { type Bronze, type BronzeOptions, createBronze, type IngestResult } from './bronze.ts';
export type { BronzeBatch, BronzeChange, BronzeOperation } from './bronze-change.ts';
export { type BronzeTables, bronzeTables } from './bronze-tables.ts';
export { type RejectedChange, recordRejected } from './rejected.ts';
export type { SourceOffset } from './source-offsets.ts';
