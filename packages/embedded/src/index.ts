export { createEmbeddedTransport, type EmbeddedTransportOptions } from './embedded-transport.ts';
