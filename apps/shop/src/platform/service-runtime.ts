/**
 * What every shop service process shares: its store and event store, the transport, the outbox
 * relay, its consumers, retention of its inbox receipts and published outbox rows, an HTTP
 * server with problem+json errors and the admin endpoints (health, info, events, outbox, sagas,
 * flows, dead letters, retention: see service-admin.ts), and a clean stop on SIGTERM/SIGINT.
 */

import type { AdminOptions, ReportedCache } from '@causeway/admin';
import {
  type AnyEventDefinition,
  type Consumer,
  type ConsumerBatchSplit,
  type ConsumerRetry,
  createEventStore,
  createOutboxRelay,
  type EventRegistry,
  type EventStore,
  type ProjectionRunner,
  type ReadThrough,
  type SagaOrchestrator,
  type Store,
  type Transport,
} from '@causeway/core';
import { startTracing } from '@causeway/opentelemetry';
import {
  registerCausewayMetrics,
  reportReadThrough,
  timeAppends,
  timeDeliveries,
} from '@causeway/prometheus';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { instanceName, instancesOf, loadConfig, portOf, type ShopConfig } from '../config.ts';
import { adminAccessOf, mountAdminPage } from './admin-page.ts';
import { createDevPoison } from './dev-poison.ts';
import { traceRequests } from './http-tracing.ts';
import { log, nameLogOf } from './log.ts';
import { openServiceStore, openShopTransport } from './open-backends.ts';
import { refuseOversizedBodies } from './oversized-body.ts';
import { installProblemHandlers, problemOf, sendProblem } from './problem.ts';
import { registerServiceAdmin } from './service-admin.ts';
import { createServiceRetention } from './service-retention.ts';

/** Start-up phases, timed from the process's own start (module loading included). */
function startPhases() {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const ended: Array<[string, number]> = [['modules', performance.now()]];
  let last = performance.now();
  return {
    end(phase: string) {
      const now = performance.now();
      ended.push([phase, now - last]);
      last = now;
    },
    summary: () =>
      `${seconds(last)} after the process started (${ended.map(([phase, ms]) => `${phase} ${seconds(ms)}`).join(', ')})`,
  };
}

export const bodyLimitBytes = 1024 * 1024;

export interface ServiceContext<Definition extends AnyEventDefinition = AnyEventDefinition> {
  readonly name: string;
  /** Which of the service's processes this is, from 0 (SHOP_INSTANCE; see SHOP_INSTANCES). */
  readonly instance: number;
  readonly config: ShopConfig;
  readonly store: Store;
  /** Typed by the service's registry: it appends and reads only the events it defines. */
  readonly eventStore: EventStore<Definition>;
  readonly transport: Transport;
  readonly app: FastifyInstance;
  /** Started after setup, stopped first; its dead letters are served by the admin endpoints. */
  addConsumer(consumer: Consumer): void;
  /**
   * A consumer's hooks that log, to spread into its options (or a projection's subscription):
   * `onRetry`, each failed delivery that will be tried again; `onBatchSplit`, each gathered
   * transaction that failed whole. Both with the error.
   */
  readonly consumerLogs: {
    onRetry(failure: ConsumerRetry): void;
    onBatchSplit(failure: ConsumerBatchSplit): void;
  };
  /** Reports these projections' lag in `/metrics`, and shows them on the service's page. */
  reportProjections(runner: ProjectionRunner, names: readonly string[]): void;
  /** Shows the orchestrator's sagas on the service's page (`/causeway/`), with a dead saga's redrive. */
  /** Its saga orchestrator, and what each step's compensation is called on the admin page's diagram. */
  reportSagas(orchestrator: SagaOrchestrator, compensationNames?: Readonly<Record<string, string>>): void;
  /** Reports a read-through cache's hits, misses and loads in `/metrics` and at `/causeway/api/caches`. */
  reportCache(name: string, reader: Pick<ReadThrough<unknown>, 'stats'>): void;
  /** A consumer added before, by name (e.g. to pause it while its read models are rebuilt). */
  consumerNamed(name: string): Consumer | undefined;
  /** Runs on stop, before the store closes (orchestrators, timers). */
  onStop(stop: () => Promise<void>): void;
  /** Runs once the consumers and relay started (orchestrators start here). */
  onStart(start: () => Promise<void>): void;
}

export interface ServiceSpec<Definition extends AnyEventDefinition> {
  name: string;
  registry: EventRegistry<Definition>;
  setup(context: ServiceContext<Definition>): Promise<void>;
}

export function createHttpApp(): FastifyInstance {
  const app = Fastify({
    bodyLimit: bodyLimitBytes,
    // The process's JSON log: what the handlers log carries the request id and the trace ids.
    loggerInstance: log as FastifyBaseLogger,
    // No line per request (the traces have them); errors are still logged by the problem handler.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // A malformed URL or an over-long path parameter is refused before routing: as problem+json too.
    frameworkErrors: (error, _request, reply) => sendProblem(reply, problemOf(error)),
  });
  installProblemHandlers(app);
  traceRequests(app);
  refuseOversizedBodies(app, { bodyLimit: bodyLimitBytes, drainLimit: 16 * bodyLimitBytes });
  return app;
}

/** SHOP_INSTANCE, set by the supervisor: 0 for the first process of a service, or when run alone. */
export function instanceOfThisProcess(env: NodeJS.ProcessEnv = process.env): number {
  const instance = Number(env.SHOP_INSTANCE ?? 0);
  if (!Number.isInteger(instance) || instance < 0)
    throw new Error(`SHOP_INSTANCE must be a whole number from 0, got "${env.SHOP_INSTANCE}"`);
  return instance;
}

export async function runService<Definition extends AnyEventDefinition>(
  spec: ServiceSpec<Definition>,
): Promise<void> {
  const phases = startPhases();
  const config = loadConfig();
  const instance = instanceOfThisProcess();
  nameLogOf(spec.name, instanceName(spec.name, instance));
  // First: what opens below (the store, the transport) is traced from its first span.
  const tracing = config.tracing
    ? startTracing({ serviceName: spec.name, serviceInstanceId: instanceName(spec.name, instance) })
    : null;
  const store = await openServiceStore(config, spec.name);
  phases.end('store');
  const metricsRegistry = new Registry();
  collectDefaultMetrics({ register: metricsRegistry });
  // Every consumer of the service meets the broker here: each delivery's handling is timed.
  const transport = timeDeliveries(await openShopTransport(config), { registry: metricsRegistry });
  phases.end('transport');
  const eventStore = timeAppends(createEventStore({ store, registry: spec.registry }), {
    registry: metricsRegistry,
  });
  const relay = createOutboxRelay({
    store,
    transport,
    // The relays of a service's processes share its outbox by leases: a lease only makes the others
    // wait for rows a SIGKILLed one had claimed, so a few seconds (a publish takes milliseconds).
    leaseMs: 5_000,
    onError: (error) => log.warn({ err: error }, `relay: ${String(error)}`),
  });
  const retention = createServiceRetention(config, store);
  const metrics = registerCausewayMetrics({ registry: metricsRegistry, store, relay, transport });
  const app = createHttpApp();
  const consumers: Consumer[] = [];
  const stops: Array<() => Promise<void>> = [];
  const starts: Array<() => Promise<void>> = [];
  const context: ServiceContext<Definition> = {
    name: spec.name,
    instance,
    config,
    store,
    eventStore,
    transport,
    app,
    addConsumer: (consumer) => consumers.push(consumer),
    consumerLogs: {
      onRetry: (failure) =>
        log.warn(
          {
            consumer: failure.consumer,
            messageId: failure.messageId,
            correlationId: failure.correlationId,
            type: failure.type,
            attempt: failure.attempt,
            delayMs: failure.delayMs,
          },
          `consumer ${failure.consumer}: ${failure.type} ${failure.messageId} failed on attempt ${failure.attempt} (${failure.reason}); tried again in ${failure.delayMs} ms`,
        ),
      onBatchSplit: (failure) =>
        log.warn(
          { consumer: failure.consumer, messages: failure.messages, err: failure.error },
          `consumer ${failure.consumer}: a transaction of ${failure.messages} messages failed (${failure.reason}); handling them one by one`,
        ),
    },
    reportProjections: (runner, names) => {
      metrics.reportProjections(runner, names);
      adminViews.projections = { runner, names };
    },
    reportSagas: (orchestrator, compensationNames) => {
      adminViews.sagas = orchestrator;
      if (compensationNames) adminViews.compensationNames = compensationNames;
    },
    reportCache: (name, reader) => {
      reportReadThrough(metricsRegistry, name, reader);
      adminCaches[name] = reader;
    },
    consumerNamed: (name) => consumers.find((consumer) => consumer.name === name),
    onStop: (stop) => stops.push(stop),
    onStart: (start) => starts.push(start),
  };

  app.get('/admin/health', async () => ({ service: spec.name, instance, status: 'up', pid: process.pid }));
  const adminViews: Pick<AdminOptions, 'sagas' | 'compensationNames' | 'projections'> = {};
  const adminCaches: Record<string, ReportedCache> = {};
  mountAdminPage(app, {
    service: instanceName(spec.name, instance),
    store,
    // Read at each request: consumers, sagas, projections and caches are added during setup.
    get consumers() {
      // The dev-mode poison's consumer too: its dead letters are redriven and discarded here.
      return [...consumers, devPoison.consumer];
    },
    get sagas() {
      return adminViews.sagas;
    },
    get compensationNames() {
      return adminViews.compensationNames;
    },
    get projections() {
      return adminViews.projections;
    },
    get caches() {
      return adminCaches;
    },
    // The spans this process ended recently: the gateway gathers one trace from every process.
    ...(tracing ? { traces: tracing } : {}),
    access: adminAccessOf(config),
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(metricsRegistry.contentType).send(await metricsRegistry.metrics()),
  );
  let requests = 0;
  app.addHook('onResponse', async (request) => {
    if (!request.url.startsWith('/admin/')) requests++;
  });
  // Not started with the others: it subscribes only once dev mode sends it a poison message.
  const devPoison = createDevPoison({ service: spec.name, store, transport });
  registerServiceAdmin({
    name: spec.name,
    config,
    store,
    app,
    consumers: () => [...consumers, devPoison.consumer],
    devPoison,
    retention,
    work: async () => ({ requests, published: (await relay.status()).published }),
  });

  await spec.setup(context);
  phases.end('setup');
  for (const consumer of consumers) await consumer.start();
  phases.end('consumers');
  relay.start();
  retention?.start();
  for (const start of starts) await start();
  // Only the gateway may face a network (HOST); the services answer the gateway and the machine.
  await app.listen({
    host: spec.name === 'gateway' ? config.host : '127.0.0.1',
    port: portOf(config, spec.name, instance),
  });
  phases.end('listen');
  // After a crash, the time to this line is time the service's messages wait: worth seeing.
  const which =
    instancesOf(config, spec.name) > 1
      ? ` instance ${instance + 1} of ${instancesOf(config, spec.name)}`
      : '';
  log.info(`${spec.name}${which} ready ${phases.summary()}`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close().catch(() => {});
    for (const consumer of [...consumers, devPoison.consumer]) await consumer.stop().catch(() => {});
    for (const each of stops) await each().catch(() => {});
    await relay.stop().catch(() => {});
    await retention?.stop().catch(() => {});
    await transport.close().catch(() => {});
    await store.close().catch(() => {});
    await tracing?.shutdown().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
