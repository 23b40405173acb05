#!/usr/bin/env node
/**
 * `causeway`: looks inside a Causeway service's database and checks a deployment. Every command
 * that looks in the database takes `--db` (a SQLite file or a postgres:// URL; CAUSEWAY_DB);
 * `doctor` also checks the brokers (`--nats`, `--rabbitmq`); each that acts, and `cache stats`
 * (counters only the service's process holds), goes through a running service's admin endpoint
 * (`--url`, `--token`). All take `--json`. Exit codes: 0 done, 1 `doctor` found a failing check or
 * the service refused, 2 nothing was looked at (a flag, the database, no service at --url).
 */
import { defaultRetention, type SagaStatus, type Store } from '@causeway/core';
import { Presets, SingleBar } from 'cli-progress';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type AdminTarget, adminCall, ServiceRefusedError } from './admin-client.ts';
import { type CacheStats, cacheListings } from './cache-stats.ts';
import { checkDeployment, type DeploymentTargets } from './check-deployment.ts';
import {
  listDeadLetters,
  listSagas,
  listStreams,
  outboxStatus,
  projectionCheckpoints,
  replicationSlots,
  showDeadLetter,
  showSaga,
  showStream,
} from './commands.ts';
import { checksListing } from './doctor.ts';
import { findByCorrelation, type NamedStore } from './flow.ts';
import { CannotOpenError, type DatabaseTarget, databaseName, openDatabase } from './open-database.ts';
import { type Listing, printListing } from './output.ts';
import { tailLog } from './tail.ts';

const write = (text: string) => process.stdout.write(text);
// Piped into `head` and the like: a reader that stops reading is no error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

interface Common {
  db?: string;
  schema: string;
  json: boolean;
}

const positive = (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('a whole number from 1');
  return value;
};

const isoTime = (text: string) => {
  if (Number.isNaN(Date.parse(text)))
    throw new InvalidArgumentError('an ISO 8601 time, e.g. 2026-12-01T12:00:00Z');
  return new Date(text).toISOString();
};

/** Adds the options every command takes. */
function withDatabase(command: Command): Command {
  return command
    .addOption(
      new Option('--db <file-or-url>', 'the service database: a SQLite file or a postgres:// URL').env(
        'CAUSEWAY_DB',
      ),
    )
    .addOption(new Option('--schema <name>', 'the PostgreSQL schema of its tables').default('causeway'))
    .option('--json', 'print JSON instead of a table', false);
}

function target(options: Common): DatabaseTarget {
  if (!options.db) throw new CannotOpenError('Say which database: --db <file-or-url>, or CAUSEWAY_DB');
  return { db: options.db, schema: options.schema };
}

/** Opens the database, runs `work`, prints its listing, closes; the exit code is `work`'s. */
async function look(
  options: Common,
  work: (store: Store) => Promise<{ listing: Listing; exitCode?: number }>,
) {
  const store = await openDatabase(target(options));
  try {
    const { listing, exitCode = 0 } = await work(store);
    printListing(listing, options.json, write);
    process.exitCode = exitCode;
  } finally {
    await store.close();
  }
}

interface AdminOptions extends AdminTarget {
  json: boolean;
}

/** Adds the options of a command that goes through a running service's admin endpoint. */
function withAdmin(command: Command): Command {
  const withToken = command
    .addOption(
      new Option('--url <address>', "the service's admin address, e.g. http://127.0.0.1:3007").env(
        'CAUSEWAY_URL',
      ),
    )
    .addOption(
      new Option('--token <token>', 'the bearer token it asks for outside dev mode').env('CAUSEWAY_TOKEN'),
    )
    .addOption(
      new Option('--base-path <path>', 'where the service mounted @causeway/admin').default('/causeway'),
    );
  // A command that also looks at a database (`withDatabase`) has its --json already.
  const hasJson = withToken.options.some((option) => option.long === '--json');
  return hasJson ? withToken : withToken.option('--json', 'print JSON', false);
}

/** Runs an admin call and prints its answer: JSON as it came, or one object as a two-column table. */
async function act(options: { json: boolean }, work: () => Promise<unknown>) {
  const answer = await work();
  if (options.json || typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    write(`${JSON.stringify(answer, null, 2)}\n`);
    return;
  }
  printListing(
    {
      columns: ['field', 'value'],
      rows: Object.entries(answer as Record<string, unknown>).map(([field, value]) => ({ field, value })),
    },
    false,
    write,
  );
}

interface ProjectionView {
  name: string;
  rebuild: {
    status: 'running' | 'done' | 'failed';
    total: number;
    processed: number;
    waiting: string | null;
    error: string | null;
  } | null;
}

/** Polls the service until the projection's rebuild ends, drawing a progress bar with an ETA on stderr. */
async function followRebuild(options: AdminOptions, name: string): Promise<ProjectionView['rebuild']> {
  const bar =
    process.stderr.isTTY && !options.json
      ? new SingleBar(
          {
            format:
              'rebuilding |{bar}| {value}/{total} events, {percentage}% | ETA {eta_formatted} {waiting}',
            stream: process.stderr,
          },
          Presets.shades_classic,
        )
      : null;
  let started = false;
  try {
    for (;;) {
      const { items } = await adminCall<{ items: ProjectionView[] }>(options, 'GET', 'projections');
      const rebuild = items.find((item) => item.name === name)?.rebuild ?? null;
      if (rebuild && bar) {
        if (!started) bar.start(Math.max(rebuild.total, 1), 0, { waiting: '' });
        started = true;
        bar.setTotal(Math.max(rebuild.total, 1));
        bar.update(rebuild.processed, { waiting: rebuild.waiting ? `(${rebuild.waiting})` : '' });
      } else if (rebuild && !bar) {
        process.stderr.write(`rebuilding: ${rebuild.processed}/${rebuild.total} events\n`);
      }
      if (rebuild && rebuild.status !== 'running') {
        if (rebuild.status === 'failed')
          throw new ServiceRefusedError(`The rebuild failed: ${rebuild.error ?? 'see the service log'}`);
        return rebuild;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    bar?.stop();
  }
}

const program = new Command('causeway')
  .description("Looks inside a Causeway service's database or its running process, and checks a deployment.")
  .showHelpAfterError()
  .exitOverride();

const streams = program.command('streams').description('event streams');
withDatabase(streams.command('list').description('stream ids with their versions'))
  .option('--limit <n>', 'at most this many', positive, 100)
  .action((options: Common & { limit: number }) =>
    look(options, async (store) => ({ listing: await listStreams(store, options.limit) })),
  );
withDatabase(streams.command('show').description("a stream's events, oldest first").argument('<stream-id>'))
  .option('--limit <n>', 'at most this many', positive, 1000)
  .option('--as-of <time>', 'only events that occurred until then (a temporal read)', isoTime)
  .action((streamId: string, options: Common & { limit: number; asOf?: string }) =>
    look(options, async (store) => ({
      listing: await showStream(store, streamId, {
        limit: options.limit,
        ...(options.asOf ? { asOf: options.asOf } : {}),
      }),
    })),
  );

withDatabase(
  streams.command('tail').description('follows the log from now on, printing each new event until Ctrl-C'),
)
  .option('--stream <id>', 'only this stream')
  .option('--every <ms>', 'how often to look when nothing is new', positive, 500)
  .action(async (options: Common & { stream?: string; every: number }) => {
    const store = await openDatabase(target(options));
    const stop = new AbortController();
    const interrupt = () => stop.abort();
    process.once('SIGINT', interrupt);
    process.once('SIGTERM', interrupt);
    try {
      await tailLog(store, {
        ...(options.stream ? { stream: options.stream } : {}),
        json: options.json,
        everyMs: options.every,
        signal: stop.signal,
        write,
      });
    } finally {
      await store.close();
    }
  });

const events = program.command('events').description('events across services');
events
  .command('find')
  .description(
    "a flow: every event of one correlation id, from each service's database, in the order they occurred",
  )
  .requiredOption('--correlation <id>', 'the correlation id (an order id in the shop)')
  .addOption(
    new Option('--db <file-or-url>', 'a service database; repeat it for each service').argParser(
      (value: string, previous: string[] = []) => [...previous, value],
    ),
  )
  .addOption(new Option('--schema <name>', 'the PostgreSQL schema of its tables').default('causeway'))
  .option('--limit <n>', 'at most this many', positive, 1000)
  .option('--json', 'print JSON instead of a table', false)
  .action(
    async (options: { correlation: string; db?: string[]; schema: string; limit: number; json: boolean }) => {
      const databases = options.db ?? [];
      if (databases.length === 0)
        throw new CannotOpenError('Say which databases: --db <file-or-url>, once per service');
      const stores: NamedStore[] = [];
      try {
        for (const db of databases)
          stores.push({ name: databaseName(db), store: await openDatabase({ db, schema: options.schema }) });
        printListing(
          await findByCorrelation(stores, options.correlation, options.limit),
          options.json,
          write,
        );
      } finally {
        for (const { store } of stores) await store.close();
      }
    },
  );

const outbox = program.command('outbox').description('the transactional outbox');
withDatabase(outbox.command('status').description('messages committed and not yet published')).action(
  (options: Common) => look(options, async (store) => ({ listing: await outboxStatus(store) })),
);

const dlq = program.command('dlq').description('dead letters');
withDatabase(dlq.command('list').description('messages a consumer gave up on, newest first'))
  .addOption(
    new Option('--status <status>', 'only these').choices(['dead', 'parked', 'redriven', 'discarded']),
  )
  .option('--limit <n>', 'at most this many', positive, 100)
  .action((options: Common & { limit: number; status?: string }) =>
    look(options, async (store) => ({
      listing: await listDeadLetters(store, {
        limit: options.limit,
        ...(options.status ? { status: options.status } : {}),
      }),
    })),
  );

withDatabase(
  dlq
    .command('show')
    .description('one dead letter: its reason, attempts and the message itself')
    .argument('<sequence>', 'the number `dlq list` shows', positive),
).action((sequence: number, options: Common) =>
  look(options, async (store) => {
    const listing = await showDeadLetter(store, sequence);
    if (!listing) throw new ServiceRefusedError(`No dead letter ${sequence} in this database`);
    return { listing };
  }),
);

const sagas = program.command('sagas').description('saga instances');
withDatabase(sagas.command('list').description('saga instances, newest first, with the count per status'))
  .addOption(
    new Option('--status <status>', 'only these').choices([
      'running',
      'compensating',
      'completed',
      'compensated',
      'dead',
    ]),
  )
  .option('--limit <n>', 'at most this many', positive, 100)
  .action((options: Common & { limit: number; status?: SagaStatus }) =>
    look(options, async (store) => ({
      listing: await listSagas(store, {
        limit: options.limit,
        ...(options.status ? { status: options.status } : {}),
      }),
    })),
  );

withDatabase(
  sagas
    .command('show')
    .description('one saga instance: its step, status, data and history')
    .argument('<saga-id>'),
).action((sagaId: string, options: Common) =>
  look(options, async (store) => {
    const listing = await showSaga(store, sagaId);
    if (!listing) throw new ServiceRefusedError(`No saga ${sagaId} in this database`);
    return { listing };
  }),
);
withAdmin(
  sagas
    .command('redrive')
    .description('a dead saga tries its failing compensation again')
    .argument('<saga-id>'),
).action((sagaId: string, options: AdminOptions) =>
  act(options, () => adminCall(options, 'POST', `sagas/${encodeURIComponent(sagaId)}/redrive`)),
);

withAdmin(
  dlq.command('redrive').description('replays a dead letter and what is parked behind it').argument('<id>'),
).action((id: string, options: AdminOptions) =>
  act(options, () => adminCall(options, 'POST', `dead-letters/${encodeURIComponent(id)}/redrive`)),
);
withAdmin(dlq.command('discard').description('gives up on a dead letter').argument('<id>')).action(
  (id: string, options: AdminOptions) =>
    act(options, () => adminCall(options, 'DELETE', `dead-letters/${encodeURIComponent(id)}`)),
);

const projections = program.command('projections').description('projections (read models)');
withAdmin(
  withDatabase(
    projections
      .command('status')
      .description(
        "with --db each projection's checkpoint and how far behind it is; with --url the service's own view",
      ),
  ),
).action((options: Common & AdminOptions) =>
  options.url
    ? act(options, async () => (await adminCall<{ items: unknown[] }>(options, 'GET', 'projections')).items)
    : look(options, async (store) => ({ listing: await projectionCheckpoints(store) })),
);
withAdmin(
  projections
    .command('rebuild')
    .description("rebuilds a projection's read models from the log, with a progress bar, until done")
    .argument('<name>'),
)
  .option('--no-wait', 'start it and return')
  .action(async (name: string, options: AdminOptions & { wait: boolean }) => {
    await adminCall(options, 'POST', `projections/${encodeURIComponent(name)}/rebuild`);
    if (!options.wait) return act(options, async () => ({ status: 'rebuilding' }));
    const done = await followRebuild(options, name);
    return act(options, async () => done);
  });
for (const action of ['pause', 'resume'] as const) {
  withAdmin(
    projections
      .command(action)
      .description(`${action}s applying new events (reads keep answering)`)
      .argument('<name>'),
  ).action((name: string, options: AdminOptions) =>
    act(options, async () => {
      const status = await adminCall<{ name: string; state: string }>(
        options,
        'POST',
        `projections/${encodeURIComponent(name)}/${action}`,
      );
      return { name: status.name, state: status.state };
    }),
  );
}

const cache = program.command('cache').description("a running service's caches");
withAdmin(
  cache
    .command('stats')
    .description(
      "each cache's hits, stale reads, misses, loads and errors since the service started, with its hit ratio",
    ),
).action(async (options: AdminOptions) => {
  const { items } = await adminCall<{ items: CacheStats[] }>(options, 'GET', 'caches');
  if (options.json) {
    write(`${JSON.stringify(items, null, 2)}\n`);
    return;
  }
  if (items.length === 0) {
    write(
      `The service at ${options.url} reports no caches (it passes none to createAdminHandler's caches)\n`,
    );
    return;
  }
  for (const listing of cacheListings(items)) printListing(listing, false, write);
});

const cdc = program.command('cdc').description('change data capture');
withDatabase(
  cdc
    .command('status')
    .description("PostgreSQL's replication slots: who reads them, and the WAL each holds back"),
).action((options: Common) =>
  look(options, async (store) => {
    if (store.capabilities.dialect !== 'postgres') {
      throw new CannotOpenError("Change data capture reads PostgreSQL's WAL: pass a postgres:// URL");
    }
    return { listing: await replicationSlots(store) };
  }),
);

interface DoctorOptions extends Common {
  outboxAgeLimit: number;
  retentionOutboxHours: number;
  retentionInboxDays: number;
  nats?: string;
  natsMonitor?: string;
  rabbitmq?: string;
  rabbitmqManagement?: string;
  transportPrefix?: string;
}

/** What doctor's flags name; `--transport-prefix` applies to each broker named. */
function deploymentTargets(options: DoctorOptions): DeploymentTargets {
  return {
    ...(options.db ? { database: target(options) } : {}),
    outboxAgeLimitSeconds: options.outboxAgeLimit,
    retention: {
      publishedOutboxMs: options.retentionOutboxHours * 3600_000,
      inboxMs: options.retentionInboxDays * 24 * 3600_000,
    },
    ...(options.nats
      ? {
          nats: {
            url: options.nats,
            monitorUrl: options.natsMonitor,
            streamPrefix: options.transportPrefix,
          },
        }
      : {}),
    ...(options.rabbitmq
      ? {
          rabbitMq: {
            url: options.rabbitmq,
            managementUrl: options.rabbitmqManagement,
            prefix: options.transportPrefix,
          },
        }
      : {}),
  };
}

withDatabase(
  program
    .command('doctor')
    .description(
      'checks the database and the brokers named (at least one of --db, --nats, --rabbitmq); exit 1 if a check fails',
    ),
)
  .option('--outbox-age-limit <seconds>', 'an older unpublished message fails the check', positive, 60)
  .option(
    '--retention-outbox-hours <n>',
    "the service's retention of published outbox rows (core's default 24)",
    positive,
    defaultRetention.publishedOutboxMs / 3600_000,
  )
  .option(
    '--retention-inbox-days <n>',
    "the service's retention of inbox receipts (core's default 7)",
    positive,
    defaultRetention.inboxMs / (24 * 3600_000),
  )
  .addOption(
    new Option('--nats <url>', 'the NATS server the services use, e.g. nats://127.0.0.1:4222').env(
      'CAUSEWAY_NATS',
    ),
  )
  .option('--nats-monitor <url>', 'its monitoring endpoint (e.g. http://127.0.0.1:8222): /varz shows fsync')
  .addOption(
    new Option('--rabbitmq <amqp-url>', 'the RabbitMQ broker, e.g. amqp://guest:guest@127.0.0.1:5672').env(
      'CAUSEWAY_RABBITMQ',
    ),
  )
  .option(
    '--rabbitmq-management <url>',
    "its management API (e.g. http://127.0.0.1:15672): each queue's type",
  )
  .option(
    '--transport-prefix <prefix>',
    "the transport's stream prefix (NATS, default CW) or queue prefix (RabbitMQ, default cw)",
  )
  .action(async (options: DoctorOptions) => {
    const checks = await checkDeployment(deploymentTargets(options));
    printListing(checksListing(checks), options.json, write);
    process.exitCode = checks.some((check) => check.status === 'fail') ? 1 : 0;
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are not errors; a usage error was printed by commander already.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof CannotOpenError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  } else if (error instanceof ServiceRefusedError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
