import { CausewayError, StoreFailureError, StoreUnavailableError } from '@causeway/core';

const storeName = 'postgres';

// Socket errors and SQLSTATEs that mean "the server is not there or not taking us now".
const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the database does not exist
]);

const unavailableMessages = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
];

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True for errors that say the server cannot be reached (as opposed to a failing statement). */
export function isUnavailableError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (unavailableCodes.has(code) || code.startsWith('08'))) return true;
  if (error instanceof AggregateError) return error.errors.some(isUnavailableError);
  const message = messageOf(error);
  return unavailableMessages.some((text) => message.includes(text));
}

/** True for errors that a retry of the whole transaction may cure. */
export function isRetryableError(error: unknown): boolean {
  const code = codeOf(error);
  return code === '40001' || code === '40P01';
}

/** True when the error is a unique violation (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return codeOf(error) === '23505';
}

/**
 * Turns a pg error into a Causeway error; driver errors never leak (they stay as `cause`).
 * Causeway errors pass through unchanged.
 */
export function mapPostgresError(error: unknown, target: string): CausewayError {
  if (error instanceof CausewayError) return error;
  if (isUnavailableError(error)) {
    return new StoreUnavailableError(
      storeName,
      `PostgreSQL at ${target} is unreachable (${messageOf(error) || codeOf(error)}): start it (pg_ctlcluster 15 main start) or set POSTGRES_URL`,
      error,
    );
  }
  if (isRetryableError(error)) {
    return new StoreFailureError(
      storeName,
      `transaction aborted by a concurrent one (${codeOf(error)}: ${messageOf(error)}): retry it`,
      error,
    );
  }
  const code = codeOf(error);
  return new StoreFailureError(
    storeName,
    code ? `${messageOf(error)} (SQLSTATE ${code})` : messageOf(error),
    error,
  );
}
