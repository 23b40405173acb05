#!/usr/bin/env node
/**
 * `causeway`: looks inside a Causeway service's database and checks a deployment. Every command
 * takes `--db` (a SQLite file or a postgres:// URL; CAUSEWAY_DB) and `--json`. Exit codes: 0 done,
 * 1 `doctor` found a failing check, 2 nothing was looked at (a flag, the database).
 */
import type { SagaStatus, Store } from '@causeway/core';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { listDeadLetters, listSagas, listStreams, outboxStatus, showStream } from './commands.ts';
import { checksListing, runDoctor } from './doctor.ts';
import { findByCorrelation, type NamedStore } from './flow.ts';
import { CannotOpenError, type DatabaseTarget, databaseName, openDatabase } from './open-database.ts';
import { type Listing, printListing } from './output.ts';
import { tailLog } from './tail.ts';

const write = (text: string) => process.stdout.write(text);

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

const program = new Command('causeway')
  .description("Looks inside a Causeway service's database, and checks a deployment.")
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
  program.command('doctor').description('checks the database and what it holds; exit 1 if a check fails'),
)
  .option('--outbox-age-limit <seconds>', 'an older unpublished message fails the check', positive, 60)
  .action((options: Common & { outboxAgeLimit: number }) =>
    look(options, async (store) => {
      const checks = await runDoctor(store, { outboxAgeLimitSeconds: options.outboxAgeLimit });
      return {
        listing: checksListing(checks),
        exitCode: checks.some((check) => check.status === 'fail') ? 1 : 0,
      };
    }),
  );

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version are not errors; a usage error was printed by commander already.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof CannotOpenError) {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
