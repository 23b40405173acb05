import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CausewayError } from '@causeway/core';
import { createEmbeddedTransport } from '@causeway/embedded';
import { describeRequiring } from '@causeway/testing';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Change, SchemaChange } from './change.ts';
import { parseLsn } from './lsn.ts';
import {
  createPostgresChangeSource,
  type PostgresChangeSource,
  type PostgresChangeSourceOptions,
} from './postgres-change-source.ts';
import { createCdcTestDatabase, logicalDecodingMissing } from './test-support/cdc-test-database.ts';
import { withCommitHeldInvisible } from './test-support/invisible-commit.ts';
import { createTableMirror } from './test-support/table-mirror.ts';
import { createTransportChangeSink } from './transport-change-sink.ts';

const missing = await logicalDecodingMissing();

describeRequiring('PostgreSQL change source', missing, () => {
  let db: Awaited<ReturnType<typeof createCdcTestDatabase>>;
  const sources: PostgresChangeSource[] = [];
  let slotCounter = 0;
  // Slots belong to the server, not the database: a run's names must not meet another run's.
  const runId = randomBytes(3).toString('hex');
  const slotName = () => `cw_test_${runId}_${slotCounter}`;

  beforeAll(async () => {
    db = await createCdcTestDatabase('cdc_source');
  });
  afterAll(async () => {
    for (const source of sources) await source.stop().catch(() => {});
    await db?.drop();
  });

  function source(options: Partial<PostgresChangeSourceOptions>) {
    slotCounter += 1;
    const created = createPostgresChangeSource({
      connectionString: db.url,
      slot: slotName(),
      publication: slotName(),
      reconnectDelayMs: 50,
      ...options,
    });
    sources.push(created);
    return created;
  }

  /** The table's rows as the mirror keeps them: sorted by the JSON of their key. */
  async function tableRows(table: string, key: string[]) {
    const { rows } = await db.query(`SELECT * FROM ${table}`);
    return rows
      .map((row) => ({
        key: JSON.stringify(Object.fromEntries(key.map((column) => [column, row[column]]))),
        row,
      }))
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(({ row }) => row);
  }

  async function eventually(check: () => Promise<void> | void, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await check();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  it('copies the rows, then streams every change made during and after the copy exactly once', async () => {
    await db.query('CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL, label text)');
    await db.query("INSERT INTO items SELECT g, 0, 'seed ' || g FROM generate_series(1, 2000) g");
    const mirror = createTableMirror();
    let snapshotChunks = 0;
    const cdc = source({
      tables: ['items'],
      snapshotChunkSize: 50,
      onSnapshotProgress: () => {},
    });
    let writing = true;
    let nextId = 2001;
    const writer = async (seed: number) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      let step = seed;
      while (writing) {
        step += 1;
        const id = 1 + ((step * 7919) % (nextId - 1));
        if (step % 5 === 0) {
          await client.query('BEGIN');
          await client.query('INSERT INTO items VALUES ($1, 1, $2)', [nextId++, `tx ${step}`]);
          await client.query('UPDATE items SET n = n + 1 WHERE id = $1', [id]);
          await client.query('COMMIT');
        } else if (step % 3 === 0) await client.query('DELETE FROM items WHERE id = $1', [id]);
        else if (step % 2 === 0)
          await client.query('UPDATE items SET n = n + 1, label = $2 WHERE id = $1', [id, `u ${step}`]);
        else await client.query('INSERT INTO items VALUES ($1, 0, NULL)', [nextId++]);
      }
      await client.end();
    };
    const writers = [writer(0), writer(1000), writer(2000)];
    await cdc.start(async (transaction) => {
      if (transaction.snapshot) {
        snapshotChunks += 1;
        await new Promise((resolve) => setTimeout(resolve, 5)); // the copy takes long enough for writes to land during it
      }
      await mirror.handler(transaction);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    writing = false;
    await Promise.all(writers);

    const expected = await tableRows('items', ['id']);
    await eventually(() => expect(mirror.rowsOf('public.items')).toEqual(expected));
    expect(snapshotChunks).toBeGreaterThanOrEqual(40);
    expect(mirror.duplicates).toEqual([]);
    expect(mirror.violations).toEqual([]);
    const streamed = mirror.transactions.filter((t) => !t.snapshot);
    expect(streamed.length).toBeGreaterThan(0);
    // Commit order: each streamed transaction ends after the one before it.
    const ends = streamed.map((t) => t.lsn);
    expect(ends).toEqual([...ends].sort((a, b) => Number(parseLsn(a) - parseLsn(b))));
    await cdc.stop();
  });

  it('marks an unchanged TOASTed value as absent, never as null, and keys deletes under DEFAULT and FULL', async () => {
    await db.query('CREATE TABLE docs (id int PRIMARY KEY, title text, body text)');
    await db.query('CREATE TABLE audit (id int PRIMARY KEY, note text)');
    await db.query('ALTER TABLE audit REPLICA IDENTITY FULL');
    const body = randomBytes(20_000).toString('hex'); // 40 kB that does not compress below the TOAST threshold
    await db.query('INSERT INTO docs VALUES (1, $1, $2)', ['first', body]);
    await db.query("INSERT INTO audit VALUES (1, 'kept')");
    const changes: Change[] = [];
    const cdc = source({ tables: ['docs', 'audit'] });
    await cdc.start(async (transaction) => {
      if (!transaction.snapshot) changes.push(...transaction.changes);
    });
    await db.query("UPDATE docs SET title = 'second' WHERE id = 1");
    await db.query('DELETE FROM docs WHERE id = 1');
    await db.query('DELETE FROM audit WHERE id = 1');
    await eventually(() => expect(changes).toHaveLength(3));
    const [update, deleteDefault, deleteFull] = changes as [Change, Change, Change];
    expect(update.op).toBe('u');
    expect(update.after).toEqual({ id: 1, title: 'second' });
    expect(update.after).not.toHaveProperty('body');
    expect(update.unchanged).toEqual(['body']);
    expect(update.before).toBeNull();
    expect(deleteDefault).toMatchObject({ op: 'd', key: { id: 1 }, after: null });
    expect(deleteDefault.before).toEqual({ id: 1 });
    expect(deleteFull).toMatchObject({ op: 'd', key: { id: 1 }, before: { id: 1, note: 'kept' } });
    expect(deleteFull.source).toMatchObject({
      schema: 'public',
      table: 'audit',
      snapshot: false,
      connector: 'postgresql',
    });
    expect(typeof deleteFull.source.txId).toBe('number');
    await cdc.stop();
  });

  it('delivers a truncate, a primary key change as delete + create, and a column added or dropped mid-stream', async () => {
    await db.query('CREATE TABLE parcels (id int PRIMARY KEY, weight int)');
    await db.query('INSERT INTO parcels VALUES (1, 10)');
    const changes: Change[] = [];
    const schemaChanges: SchemaChange[] = [];
    const cdc = source({ tables: ['parcels'], onSchemaChange: (change) => schemaChanges.push(change) });
    await cdc.start(async (transaction) => {
      if (!transaction.snapshot) changes.push(...transaction.changes);
    });
    await db.query('INSERT INTO parcels VALUES (2, 20)');
    await db.query('ALTER TABLE parcels ADD COLUMN carrier text');
    await db.query("INSERT INTO parcels VALUES (3, 30, 'post')");
    await db.query('UPDATE parcels SET id = 4 WHERE id = 3');
    await db.query('ALTER TABLE parcels DROP COLUMN weight');
    await db.query("INSERT INTO parcels VALUES (5, 'rail')");
    await db.query('TRUNCATE parcels');
    await eventually(() => expect(changes).toHaveLength(6));
    expect(changes.map((change) => change.op)).toEqual(['c', 'c', 'd', 'c', 'c', 't']);
    expect(changes[0]!.after).toEqual({ id: 2, weight: 20 });
    expect(changes[1]!.after).toEqual({ id: 3, weight: 30, carrier: 'post' });
    expect(changes[2]).toMatchObject({ op: 'd', key: { id: 3 } });
    expect(changes[3]).toMatchObject({
      op: 'c',
      key: { id: 4 },
      after: { id: 4, weight: 30, carrier: 'post' },
    });
    expect(changes[4]!.after).toEqual({ id: 5, carrier: 'rail' });
    expect(changes[5]).toMatchObject({ op: 't', key: null, source: { table: 'parcels' } });
    expect(schemaChanges).toEqual([
      { schema: 'public', table: 'parcels', added: ['carrier'], dropped: [] },
      { schema: 'public', table: 'parcels', added: [], dropped: ['weight'] },
    ]);
    await cdc.stop();
  });

  it('resumes after a restart where it stopped, and redelivers a failed transaction with the same ids', async () => {
    await db.query('CREATE TABLE ledger (id int PRIMARY KEY, amount int)');
    const options = { tables: ['ledger'] };
    const first = source(options);
    const seen: Change[] = [];
    await first.start(async (transaction) => {
      seen.push(...transaction.changes);
    });
    await db.query('INSERT INTO ledger VALUES (1, 100)');
    await eventually(() => expect(seen).toHaveLength(1));
    await first.stop();
    await db.query('INSERT INTO ledger VALUES (2, 200)');

    // The same slot again: no second snapshot, and the change made while stopped arrives.
    const again = createPostgresChangeSource({
      connectionString: db.url,
      slot: slotName(),
      publication: slotName(),
      reconnectDelayMs: 50,
    });
    sources.push(again);
    let failures = 0;
    const attempts: Change[][] = [];
    await again.start(async (transaction) => {
      attempts.push([...transaction.changes]);
      if (transaction.changes.some((change) => change.after?.id === 3) && failures < 2) {
        failures += 1;
        throw new Error('the sink is down');
      }
      seen.push(...transaction.changes);
    });
    await db.query('INSERT INTO ledger VALUES (3, 300)');
    await eventually(() => expect(seen).toHaveLength(3));
    expect(seen.map((change) => change.after?.id)).toEqual([1, 2, 3]);
    expect(seen.every((change) => change.op === 'c')).toBe(true);
    const deliveriesOfThree = attempts.filter((changes) => changes.some((change) => change.after?.id === 3));
    expect(deliveriesOfThree).toHaveLength(3);
    expect(new Set(deliveriesOfThree.map((changes) => changes[0]!.id)).size).toBe(1);
    await again.stop();
  });
  it('copies the tables again when its slot was dropped behind its back, and says so', async () => {
    await db.query('CREATE TABLE stock (sku text PRIMARY KEY, units int)');
    await db.query("INSERT INTO stock VALUES ('tea', 5)");
    const lost: string[] = [];
    const options = { tables: ['stock'], onSlotLost: (event: { reason: string }) => lost.push(event.reason) };
    const first = source(options);
    const slot = slotName();
    const reads: Change[] = [];
    await first.start(async (transaction) => {
      reads.push(...transaction.changes);
    });
    await first.stop();
    await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
    await db.query("INSERT INTO stock VALUES ('coffee', 7)");

    const again = createPostgresChangeSource({
      connectionString: db.url,
      slot,
      publication: slot,
      ...options,
    });
    sources.push(again);
    await again.start(async (transaction) => {
      reads.push(...transaction.changes);
    });
    expect(lost).toEqual(['dropped']);
    // The row written while there was no slot is not skipped: it is in the second copy.
    expect(reads.map((change) => [change.op, change.key?.sku])).toEqual([
      ['r', 'tea'],
      ['r', 'coffee'],
      ['r', 'tea'],
    ]);
    await again.drop();
    const { rows } = await db.query('SELECT slot_name FROM pg_replication_slots WHERE slot_name = $1', [
      slot,
    ]);
    expect(rows).toEqual([]);
  });

  it('refuses bad configuration with a typed error that names the fix, and creates nothing', async () => {
    await db.query('CREATE TABLE keyless (note text)');
    await db.query('CREATE TABLE keyed (id int PRIMARY KEY)');
    const refusal = async (options: Partial<PostgresChangeSourceOptions>) => {
      const cdc = source(options);
      const error = await cdc
        .start(async () => {})
        .then(
          () => null,
          (caught: unknown) => caught,
        );
      expect(error).toBeInstanceOf(CausewayError);
      return error as CausewayError & { details: { reason: string } };
    };
    const slotsBefore = (
      await db.query(
        'SELECT count(*)::int AS n FROM pg_replication_slots WHERE database = current_database()',
      )
    ).rows[0].n;
    const publicationsBefore = (await db.query('SELECT count(*)::int AS n FROM pg_publication')).rows[0].n;

    const noPublication = await refusal({});
    expect(noPublication.code).toBe('CONFIG_INVALID');
    expect(noPublication.details.reason).toBe('no-publication');
    expect(noPublication.message).toMatch(/CREATE PUBLICATION/);

    const noKey = await refusal({ tables: ['keyed', 'keyless'] });
    expect(noKey.details.reason).toBe('no-key');
    expect(noKey.message).toMatch(/REPLICA IDENTITY USING INDEX/);

    const noTable = await refusal({ tables: ['absent'] });
    expect(noTable.details.reason).toBe('no-table');

    await db.query('CREATE PUBLICATION only_keyed FOR TABLE keyed');
    const mismatch = await refusal({ publication: 'only_keyed', tables: ['keyed', 'items'] });
    expect(mismatch.details.reason).toBe('publication-mismatch');
    expect(mismatch.message).toMatch(/ALTER PUBLICATION only_keyed ADD TABLE/);

    expect(
      (
        await db.query(
          'SELECT count(*)::int AS n FROM pg_replication_slots WHERE database = current_database()',
        )
      ).rows[0].n,
    ).toBe(slotsBefore);
    expect((await db.query('SELECT count(*)::int AS n FROM pg_publication')).rows[0].n).toBe(
      publicationsBefore + 1,
    );

    // A slot that another consumer is reading.
    const running = source({ tables: ['keyed'] });
    await running.start(async () => {});
    const slot = slotName();
    const second = createPostgresChangeSource({ connectionString: db.url, slot, publication: slot });
    const inUse = await second
      .start(async () => {})
      .then(
        () => null,
        (caught: unknown) => caught as CausewayError & { details: { reason: string } },
      );
    expect(inUse?.details.reason).toBe('slot-in-use');
    expect(inUse?.message).toMatch(/in use by another consumer/);
    await running.drop();
  });

  it('publishes changes on a transport keyed by table and primary key, with the change id as message id', async () => {
    await db.query('CREATE TABLE deliveries (id text PRIMARY KEY, status text NOT NULL)');
    await db.query("INSERT INTO deliveries VALUES ('s-1', 'PENDING')");
    const folder = mkdtempSync(join(tmpdir(), 'causeway-cdc-'));
    const transport = createEmbeddedTransport({ filename: join(folder, 'transport.db') });
    const received: Array<{
      id: string;
      orderingKey: string;
      type: string;
      payload: { id: string; data: Change };
    }> = [];
    const subscription = await transport.subscribe(
      { group: 'search', destinations: ['shipping.shipments'] },
      async (delivery) => {
        received.push(delivery.message as never);
        await delivery.ack();
      },
    );
    const cdc = source({ tables: ['deliveries'] });
    await cdc.start(
      createTransportChangeSink(transport, {
        type: 'shipping.ShipmentChanged',
        destination: 'shipping.shipments',
      }),
    );
    await db.query("UPDATE deliveries SET status = 'SHIPPED' WHERE id = 's-1'");
    await eventually(() => expect(received).toHaveLength(2));
    expect(
      received.map((message) => [
        message.type,
        message.orderingKey,
        message.payload.data.op,
        message.payload.data.after?.status,
      ]),
    ).toEqual([
      ['shipping.ShipmentChanged', 'public.deliveries:["s-1"]', 'r', 'PENDING'],
      ['shipping.ShipmentChanged', 'public.deliveries:["s-1"]', 'u', 'SHIPPED'],
    ]);
    for (const message of received) expect(message.id).toBe(message.payload.data.id);
    expect(received.map((message) => message.payload.id)).toEqual(received.map((message) => message.id));
    await cdc.stop();
    await subscription.close();
    await transport.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('delivers a transaction of 50,000 rows whole, once, and acknowledges it', async () => {
    await db.query('CREATE TABLE bulk (id int PRIMARY KEY, payload text)');
    const transactions: Array<{ size: number; ids: Set<string>; lsn: string }> = [];
    const cdc = source({ tables: ['bulk'] });
    await cdc.start(async (transaction) => {
      if (!transaction.snapshot)
        transactions.push({
          size: transaction.changes.length,
          ids: new Set(transaction.changes.map((c) => c.id)),
          lsn: transaction.lsn,
        });
    });
    await db.query("INSERT INTO bulk SELECT g, 'row ' || g FROM generate_series(1, 50000) g");
    await eventually(() => expect(transactions).toHaveLength(1), 60_000);
    expect(transactions[0]!.size).toBe(50_000);
    expect(transactions[0]!.ids.size).toBe(50_000);
    const slot = slotName();
    await eventually(async () => {
      const { rows } = await db.query(
        'SELECT confirmed_flush_lsn >= $2::pg_lsn AS acknowledged FROM pg_replication_slots WHERE slot_name = $1',
        [slot, transactions[0]!.lsn],
      );
      expect(rows[0].acknowledged).toBe(true);
    });
    await cdc.stop();
  });

  it('raises the lag alarm while the handler holds the slot back, and clears it once caught up', async () => {
    await db.query('CREATE TABLE busy (id int PRIMARY KEY, payload text)');
    const alarms: Array<{ raised: boolean; lagBytes: number | null }> = [];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const cdc = source({
      tables: ['busy'],
      lagAlarm: {
        bytes: 1024 * 1024,
        intervalMs: 100,
        onChange: ({ raised, status }) => alarms.push({ raised, lagBytes: status.lagBytes }),
      },
    });
    await cdc.start(async (transaction) => {
      if (!transaction.snapshot) await held;
    });
    await db.query("INSERT INTO busy VALUES (0, 'first')"); // the handler holds this one
    await db.query("INSERT INTO busy SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g"); // about 5 MB of WAL
    await eventually(() => expect(alarms.at(-1)?.raised).toBe(true));
    expect(alarms[0]!.lagBytes).toBeGreaterThan(1024 * 1024);
    release();
    await eventually(() => expect(alarms.at(-1)?.raised).toBe(false));
    expect((await cdc.status()).transactionsHandled).toBeGreaterThanOrEqual(2);
    await cdc.stop();
  });

  it('copies a table added later in chunks while writers change it, the stream winning over older chunk rows, and resumes after a restart', async () => {
    await db.query('CREATE TABLE early (id int PRIMARY KEY)');
    await db.query('CREATE TABLE later (id int PRIMARY KEY, n int NOT NULL)');
    await db.query('INSERT INTO later SELECT g, 0 FROM generate_series(1, 3000) g');
    const mirror = createTableMirror({ lenient: true });
    const options = { tables: ['early'], snapshotChunkSize: 100 };
    const first = source(options);
    const slot = slotName();
    await first.start(mirror.handler);
    await db.query(`ALTER PUBLICATION ${slot} ADD TABLE later`);
    await expect(first.snapshotTable('absent_table')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });

    let writing = true;
    let nextId = 3001;
    const writer = async (seed: number) => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      for (let step = seed; writing; step += 1) {
        const id = 1 + ((step * 7919) % 3000);
        if (step % 4 === 0) await client.query('DELETE FROM later WHERE id = $1', [id]);
        else if (step % 4 === 1)
          await client.query('INSERT INTO later VALUES ($1, 0) ON CONFLICT DO NOTHING', [nextId++]);
        else await client.query('UPDATE later SET n = n + 1 WHERE id = $1', [id]);
        // Paced: a chunk completes when the stream reaches its high watermark, so writers faster
        // than the stream (a loaded CI machine) would hold the copy back indefinitely.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await client.end();
    };
    const writers = [writer(0), writer(1000), writer(2000)];

    // Stop part-way through the copy; a new source on the same slot resumes it.
    const copied: number[] = [];
    const stopped = first.snapshotTable('later').catch(() => 'stopped');
    await eventually(() =>
      expect(
        mirror.transactions.filter((t) => t.snapshot && t.changes[0]?.source.table === 'later').length,
      ).toBeGreaterThanOrEqual(5),
    );
    await first.stop();
    expect(await stopped).toBe('stopped');
    const chunksBefore = mirror.transactions.filter(
      (t) => t.snapshot && t.changes[0]?.source.table === 'later',
    ).length;

    const again = createPostgresChangeSource({
      connectionString: db.url,
      slot,
      publication: slot,
      snapshotChunkSize: 100,
      reconnectDelayMs: 50,
      onSnapshotProgress: (progress) => {
        if (progress.table === 'public.later' && progress.done) copied.push(progress.rows);
      },
    });
    sources.push(again);
    await again.start(mirror.handler);
    await eventually(() => expect(copied).toHaveLength(1), 120_000);
    writing = false;
    await Promise.all(writers);

    const expected = await tableRows('later', ['id']);
    await eventually(() => expect(mirror.rowsOf('public.later')).toEqual(expected));
    expect(mirror.duplicates).toEqual([]);
    // Resumed, not started over: the chunks read before the stop are not read again.
    const chunks = mirror.transactions.filter(
      (t) => t.snapshot && t.changes[0]?.source.table === 'later',
    ).length;
    expect(chunksBefore).toBeGreaterThanOrEqual(5);
    expect(chunks).toBeLessThanOrEqual(Math.ceil(nextId / 100) + 2);
    const { rows } = await db.query(
      'SELECT done, generation FROM causeway_cdc.table_snapshots WHERE slot = $1',
      [slot],
    );
    expect(rows).toEqual([{ done: true, generation: 0 }]);
    // A retired consumer leaves no progress behind for a later source of the same slot name.
    await again.drop();
    const left = await db.query(
      'SELECT count(*)::int AS n FROM causeway_cdc.table_snapshots WHERE slot = $1',
      [slot],
    );
    expect(left.rows[0].n).toBe(0);
  }, 180_000);

  it("reads a chunk again when a change the stream delivered before the chunk's low watermark was not yet visible to its read", async () => {
    // PostgreSQL streams a commit once its record is flushed and makes it visible a moment later
    // (on a loaded machine, a group commit can wake the watermark's session first).
    await db.query('CREATE TABLE settling_anchor (id int PRIMARY KEY)');
    await db.query('CREATE TABLE settling (id int PRIMARY KEY, n int NOT NULL)');
    await db.query('INSERT INTO settling SELECT g, 0 FROM generate_series(1, 50) g');
    const mirror = createTableMirror({ lenient: true });
    const capture = source({ tables: ['settling_anchor'] });
    await capture.start(mirror.handler);
    await db.query(`ALTER PUBLICATION ${slotName()} ADD TABLE settling`);

    await withCommitHeldInvisible(db.url, async (held) => {
      const deleting = held.client.query('DELETE FROM settling WHERE id = 7');

      const deletedSeven = () =>
        mirror.transactions.some((t) => t.changes.some((c) => c.op === 'd' && c.key?.id === 7));
      await eventually(() => expect(deletedSeven()).toBe(true));
      // Streamed, yet not visible: the state the copy has to cope with.
      expect((await db.query('SELECT count(*)::int AS n FROM settling WHERE id = 7')).rows[0].n).toBe(1);

      let copied = false;
      const copy = capture.snapshotTable('settling').then(() => {
        copied = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      // A chunk read now would hold row 7 after its delete: it is read again instead.
      expect(copied).toBe(false);
      expect(mirror.rowsOf('public.settling')).toEqual([]);

      await held.release();
      await deleting;
      await copy;
      expect(mirror.rowsOf('public.settling')).toEqual(await tableRows('settling', ['id']));
      expect(mirror.rowsOf('public.settling')).toHaveLength(49);
    });
  }, 60_000);

  it('runs the documented example (docs/examples/change-data-capture.ts)', async () => {
    const previous = process.env.POSTGRES_URL;
    process.env.POSTGRES_URL = db.url;
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import('../../../docs/examples/change-data-capture.ts');
      expect(log.mock.calls).toEqual([[['r s-1 PENDING', 'u s-1 SHIPPED', 'd s-1 -']]]);
    } finally {
      log.mockRestore();
      if (previous === undefined) delete process.env.POSTGRES_URL;
      else process.env.POSTGRES_URL = previous;
    }
  });
});
