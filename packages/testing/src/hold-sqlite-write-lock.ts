/**
 * Fault injection: another process holding a rollback-journal write lock on `filename` for `ms`
 * milliseconds (BEGIN IMMEDIATE and an uncommitted insert into a new table). Resolves once the
 * lock is held; `released` resolves when the process has committed and exited.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const holder = `
const [driver, filename, ms] = process.argv.slice(1);
const Database = require(driver);
const db = new Database(filename);
db.exec('BEGIN IMMEDIATE');
db.exec('CREATE TABLE IF NOT EXISTS held (x)');
console.log('holding');
setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(ms));
`;

export async function holdSqliteWriteLock(
  filename: string,
  ms: number,
): Promise<{ released: Promise<void> }> {
  // The driver this package resolves (an optional peer: looked up only here), not whatever the
  // child's working directory has.
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(process.execPath, ['-e', holder, driver, filename, String(ms)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const released = new Promise<void>((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`lock holder exited ${code}`)))),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code} before holding the lock`)));
  });
  return { released };
}
