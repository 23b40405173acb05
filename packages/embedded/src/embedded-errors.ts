import { CausewayError, StoreFailureError, StoreUnavailableError } from '@causeway/core';

export const embeddedTransportName = 'embedded transport';

/**
 * Maps a better-sqlite3 error to a Causeway error, so no driver error leaks out of the transport;
 * the driver error stays available as `cause`.
 */
export function toEmbeddedTransportError(error: unknown, action: string): CausewayError {
  if (error instanceof CausewayError) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const detail = error instanceof Error ? error.message : String(error);
  if (/^SQLITE_(BUSY|LOCKED)/.test(code)) {
    return new StoreUnavailableError(
      embeddedTransportName,
      `${action}: the transport file stayed locked by another process for longer than busyTimeoutMs (${code}): retry later`,
      error,
    );
  }
  if (/^SQLITE_(CANTOPEN|FULL|IOERR|PROTOCOL|READONLY)/.test(code)) {
    return new StoreUnavailableError(
      embeddedTransportName,
      `${action}: ${detail} (${code}): check that the file's directory exists, is writable and has free space`,
      error,
    );
  }
  return new StoreFailureError(
    embeddedTransportName,
    `${action}: ${detail}${code ? ` (${code})` : ''}`,
    error,
  );
}

export function transportClosedError(): StoreUnavailableError {
  return new StoreUnavailableError(
    embeddedTransportName,
    'the transport was closed: open a new one with createEmbeddedTransport()',
  );
}
