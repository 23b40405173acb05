/**
 * @causeway/prometheus: a Causeway service's metrics in your prom-client registry (prom-client is a
 * peer dependency), ready for `GET /metrics`.
 */
export {
  type CausewayMetrics,
  type CausewayMetricsOptions,
  registerCausewayMetrics,
} from './causeway-metrics.ts';
export { reportReadThrough } from './read-through-metrics.ts';
export { timeAppends } from './timed-appends.ts';
export { type TimedDeliveriesOptions, timeDeliveries } from './timed-deliveries.ts';
