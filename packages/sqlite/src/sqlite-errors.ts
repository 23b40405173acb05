import { CausewayError, StoreFailureError, StoreUnavailableError } from '@causeway/core';

export const sqliteStoreName = 'sqlite';

/** Codes that mean "the database is there but cannot serve us right now": retrying later may work. */
const unavailableCodes = /^SQLITE_(BUSY|LOCKED|CANTOPEN|FULL|IOERR|PROTOCOL)/;

/**
 * Maps a better-sqlite3 error to a Causeway error so that no driver error leaks out of the
 * adapter; the driver error stays available as `cause`. Causeway errors pass through unchanged.
 */
export function toSqliteStoreError(error: unknown, action: string): CausewayError {
  if (error instanceof CausewayError) return error;
  const code = sqliteErrorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code !== undefined && /^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return new StoreUnavailableError(
      sqliteStoreName,
      `${action}: the database file stayed locked by another connection for longer than busyTimeoutMs (${code}): retry later, or raise busyTimeoutMs if writers hold the lock for long`,
      error,
    );
  }
  if (code !== undefined && unavailableCodes.test(code)) {
    return new StoreUnavailableError(
      sqliteStoreName,
      `${action}: ${detail} (${code}): check that the database file's directory exists, is writable and has free space`,
      error,
    );
  }
  return new StoreFailureError(sqliteStoreName, `${action}: ${detail}${code ? ` (${code})` : ''}`, error);
}

function sqliteErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
