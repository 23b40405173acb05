export * from './partition.ts';
export {
  createSubscriptionRuntime,
  type ReleaseSlot,
  type SubscriptionRuntime,
  type SubscriptionRuntimeOptions,
  type SubscriptionSettings,
} from './subscription-runtime.ts';
export * from './transport.ts';
