export * from './bronze/index.ts';
export * from './export/index.ts';
export {
  type Lakehouse,
  type LakehouseOptions,
  type LakehouseRow,
  type LakehouseSession,
  openLakehouse,
  type SqlParameters,
} from './lakehouse.ts';
export * from './models/index.ts';
export * from './reverse-etl/index.ts';
