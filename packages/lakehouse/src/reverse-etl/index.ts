/** Reverse ETL: lakehouse queries pushed back into operational services as their own commands. */

export {
  commandIdOf,
  createReverseEtl,
  outboxDelivery,
  type ReverseEtl,
  type ReverseEtlOptions,
} from './reverse-etl.ts';
export type { ReverseRun, ReverseRunStatus } from './reverse-etl-log.ts';
export {
  defineReverseSync,
  type ReverseChange,
  type ReverseCommand,
  type ReverseSchedule,
  type ReverseSync,
} from './reverse-sync.ts';
