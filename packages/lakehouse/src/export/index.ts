export {
  type BronzeExport,
  type BronzePartition,
  type ExportBronzeOptions,
  exportBronze,
} from './export-bronze.ts';
export { type ExportTableOptions, exportTable, type TableExport } from './export-table.ts';
