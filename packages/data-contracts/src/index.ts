/**
 * @causeway/data-contracts: data contracts in the Open Data Contract Standard v3.1 (YAML),
 * validated against the standard's official JSON Schema; the breaking changes between two
 * versions of a contract; and checks that an event's zod schema or a table's columns match it.
 */
export { type BreakingChange, type BreakingKind, breakingChanges, isMajorBump } from './breaking-changes.ts';
export {
  type ColumnDescription,
  type ConformanceIssue,
  type ConformanceProblem,
  checkColumns,
  checkEventSchema,
} from './conformance.ts';
export type {
  ContractProperty,
  ContractSchemaObject,
  ContractSlaProperty,
  DataContract,
} from './contract.ts';
export { type ContractEvolution, checkContractEvolution } from './contract-history.ts';
export { type DraftedEvent, type DraftOptions, draftContract } from './draft-contract.ts';
export { loadContract, parseContract } from './load-contract.ts';
export { maskedClassifications, maskedColumns, maskRows, maskValue } from './masking.ts';
export {
  type QualityCheck,
  type QualityExpectation,
  type QualityResult,
  type QualityStatus,
  type QualityTarget,
  qualityChecks,
  qualityStatus,
  runQualityChecks,
} from './quality.ts';
