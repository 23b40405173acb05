import { createPostgresChangeSource } from '@causeway/postgres-cdc';
import pg from 'pg';

// A service whose state is a plain table, not events: its changes are read from the WAL.
const connectionString = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const db = new pg.Client({ connectionString });
await db.connect();
await db.query('CREATE TABLE IF NOT EXISTS shipments (id text PRIMARY KEY, status text NOT NULL)');
await db.query("INSERT INTO shipments VALUES ('s-1', 'PENDING') ON CONFLICT (id) DO NOTHING");

// #region source
const source = createPostgresChangeSource({
  connectionString,
  slot: 'shipments_to_search', // one durable slot per consumer of the changes
  publication: 'shipments_cdc', // created for `tables` when it does not exist
  tables: ['shipments'],
});
const seen: string[] = [];
// First start: the rows already there arrive as op 'r', then every commit, in commit order. A
// transaction is acknowledged to the slot only after this handler resolved.
await source.start(async ({ changes }) => {
  for (const change of changes) seen.push(`${change.op} ${change.key?.id} ${change.after?.status ?? '-'}`);
});
// #endregion

await db.query("UPDATE shipments SET status = 'SHIPPED' WHERE id = 's-1'");
await db.query("DELETE FROM shipments WHERE id = 's-1'");
while (seen.length < 3) await new Promise((resolve) => setTimeout(resolve, 20));
console.log(seen);

// A retired consumer removes its slot, or the slot would keep WAL on the server forever.
await source.drop();
await db.query('DROP PUBLICATION shipments_cdc');
await db.query('DROP TABLE shipments');
await db.end();
