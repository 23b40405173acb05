/**
 * The baseline of the saga bench: the same three steps with no saga, no messages and no second
 * process — one process writes the reservation, the charge and the confirmation rows and then the
 * saga row (status completed), each in its own transaction (autocommit), one after the other.
 * SQLite: better-sqlite3 on its own file with the pragmas of Causeway's store. PostgreSQL: `pg`
 * with a pool of 8, in a schema of the bench database.
 */
import Database from 'better-sqlite3';
import pg from 'pg';

export interface PlainSagas {
  /** One "saga": four sequential single-row transactions; resolves when the last committed. */
  runOne(): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;
const nextOrderId = () => `plain-${process.pid}-${++counter}`;
const sagaData = (orderId: string) => JSON.stringify({ orderId, amountCents: 1299 });

export function createSqlitePlainSagas(filename: string): PlainSagas {
  const db = new Database(filename, { timeout: 5000 });
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('secure_delete = ON');
  db.pragma('foreign_keys = ON');
  db.exec(`
    CREATE TABLE reservations (order_id TEXT PRIMARY KEY, released INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE charges (order_id TEXT PRIMARY KEY, amount_cents INTEGER NOT NULL, refunded INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE confirmations (order_id TEXT PRIMARY KEY);
    CREATE TABLE sagas (saga_id TEXT PRIMARY KEY, status TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL);`);
  const reserve = db.prepare('INSERT INTO reservations (order_id) VALUES (?)');
  const charge = db.prepare('INSERT INTO charges (order_id, amount_cents) VALUES (?, ?)');
  const confirm = db.prepare('INSERT INTO confirmations (order_id) VALUES (?)');
  const saga = db.prepare(
    `INSERT INTO sagas (saga_id, status, data, updated_at) VALUES (?, 'completed', ?, ?)`,
  );
  return {
    async runOne() {
      const orderId = nextOrderId();
      reserve.run(orderId);
      charge.run(orderId, 1299);
      confirm.run(orderId);
      saga.run(orderId, sagaData(orderId), new Date().toISOString());
    },
    async close() {
      db.close();
    },
  };
}

export async function createPostgresPlainSagas(connectionString: string): Promise<PlainSagas> {
  const setup = new pg.Client({ connectionString });
  await setup.connect();
  try {
    await setup.query(`
      CREATE SCHEMA plain;
      CREATE TABLE plain.reservations (order_id text PRIMARY KEY, released int NOT NULL DEFAULT 0);
      CREATE TABLE plain.charges (order_id text PRIMARY KEY, amount_cents int NOT NULL, refunded int NOT NULL DEFAULT 0);
      CREATE TABLE plain.confirmations (order_id text PRIMARY KEY);
      CREATE TABLE plain.sagas (saga_id text PRIMARY KEY, status text NOT NULL, data jsonb NOT NULL, updated_at timestamptz NOT NULL);`);
  } finally {
    await setup.end();
  }
  const pool = new pg.Pool({ connectionString, max: 8 });
  pool.on('error', () => {});
  return {
    async runOne() {
      const orderId = nextOrderId();
      await pool.query('INSERT INTO plain.reservations (order_id) VALUES ($1)', [orderId]);
      await pool.query('INSERT INTO plain.charges (order_id, amount_cents) VALUES ($1, $2)', [orderId, 1299]);
      await pool.query('INSERT INTO plain.confirmations (order_id) VALUES ($1)', [orderId]);
      await pool.query(
        `INSERT INTO plain.sagas (saga_id, status, data, updated_at) VALUES ($1, 'completed', $2, now())`,
        [orderId, sagaData(orderId)],
      );
    },
    close: () => pool.end(),
  };
}
