export {
  createEmbeddedTransport,
  defaultMaxAgeMs,
  defaultPruneIntervalMs,
  defaultRetentionMs,
  type EmbeddedTransport,
  type EmbeddedTransportOptions,
} from './embedded-transport.ts';
