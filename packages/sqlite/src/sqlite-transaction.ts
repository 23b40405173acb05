import { InvalidArgumentError, type Transaction } from '@causeway/core';
import { sqliteStoreName } from './sqlite-errors.ts';
import { toNumberedParams, translatePlaceholders } from './sqlite-placeholders.ts';
import type { SqliteSession } from './sqlite-session.ts';

/**
 * The Transaction handed to `work`: the service's SQL plus the adapter's own session. It is only
 * usable while its transaction is open, so a forgotten `await` fails loudly instead of writing
 * into whatever transaction happens to be open next.
 */
export class SqliteTransaction implements Transaction {
  readonly storeName = sqliteStoreName;
  #open = true;
  #changed = false;
  readonly #commitCallbacks: Array<() => void> = [];
  readonly #session: SqliteSession;

  constructor(
    session: SqliteSession,
    readonly owner: object,
  ) {
    this.#session = session;
  }

  /** The adapter's statement runner, checked to be inside this open transaction. */
  get session(): SqliteSession {
    this.assertOpen();
    return this.#session;
  }

  assertOpen(): void {
    if (!this.#open) {
      throw new InvalidArgumentError(
        'tx',
        'This transaction has already committed or rolled back: await every store call inside transaction(work)',
      );
    }
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** True when the transaction wrote events or outbox rows, so change listeners must be woken. */
  get changed(): boolean {
    return this.#changed;
  }

  markChanged(): void {
    this.#changed = true;
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return this.session.all<Row>(translatePlaceholders(sql), toNumberedParams(params));
  }

  async execute(sql: string, params: readonly unknown[] = []): Promise<{ rowCount: number }> {
    const result = this.session.run(translatePlaceholders(sql), toNumberedParams(params));
    return { rowCount: result.changes };
  }

  onCommit(callback: () => void): void {
    this.#commitCallbacks.push(callback);
  }

  /** Ends the handle's life; called by the connection after COMMIT or ROLLBACK. */
  close(): void {
    this.#open = false;
  }

  /** Runs the onCommit callbacks; a throwing callback cannot undo the commit, so it only warns. */
  runCommitCallbacks(): void {
    for (const callback of this.#commitCallbacks) {
      try {
        callback();
      } catch (error) {
        process.emitWarning(`An onCommit callback threw after the transaction committed: ${String(error)}`);
      }
    }
  }
}
