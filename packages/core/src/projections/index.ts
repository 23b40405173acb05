export * from './inline-projection.ts';
export { deadLetterConsumerOf, type HaltedAt, type PoisonPolicy } from './own-log-poison.ts';
export * from './projection.ts';
export type { RebuildProgress } from './projection-rebuild.ts';
export * from './projection-runner.ts';
export {
  eventStoreHistory,
  type LogSource,
  ownLog,
  type ProjectionSource,
  type SourceHistory,
  type SourceHistoryPage,
  type SourceStats,
  type SubscriptionSource,
  subscribeTo,
} from './projection-source.ts';
export * from './read-model.ts';
export * from './write-buffer.ts';
