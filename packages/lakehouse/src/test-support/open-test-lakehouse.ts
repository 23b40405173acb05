/** Test helper: a fresh in-memory lakehouse per test, closed after it. */
import { afterEach } from 'vitest';
import { type Lakehouse, openLakehouse } from '../lakehouse.ts';

/** Registers the cleanup and returns a function opening a new `:memory:` lakehouse. */
export function useTestLakehouse(): () => Promise<Lakehouse> {
  const opened: Lakehouse[] = [];
  afterEach(async () => {
    for (const lakehouse of opened.splice(0)) await lakehouse.close();
  });
  return async () => {
    const lakehouse = await openLakehouse({ path: ':memory:' });
    opened.push(lakehouse);
    return lakehouse;
  };
}

/** Runs statements outside a transaction (test setup: sources, hand edits of targets). */
export async function execute(lakehouse: Lakehouse, ...statements: string[]): Promise<void> {
  await lakehouse.exclusive(async (session) => {
    for (const statement of statements) await session.run(statement);
  });
}
