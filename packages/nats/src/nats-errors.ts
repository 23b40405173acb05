import { CausewayError, TransportFailureError, TransportUnavailableError } from '@causeway/core';

/**
 * A NATS failure as a Causeway error, so no driver error leaks: `TRANSPORT_UNAVAILABLE` when the
 * server cannot be reached or did not answer in time (retry later), `TRANSPORT_FAILURE`
 * otherwise (`cause` holds the driver error).
 */
export function toTransportError(
  action: string,
  error: unknown,
  details: Record<string, unknown> = {},
): Error {
  if (error instanceof CausewayError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  if (isUnavailable(error)) {
    return new TransportUnavailableError(
      `NATS unavailable while trying to ${action}: ${reason}; check that nats-server runs with JetStream (-js) and retry`,
      { transport: 'nats', details: { action, ...details }, cause: error },
    );
  }
  return new TransportFailureError(`NATS failed to ${action}: ${reason}`, {
    transport: 'nats',
    details: { action, ...details },
    cause: error,
  });
}

const unavailableNames = new Set([
  'TimeoutError',
  'NoRespondersError',
  'ConnectionError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'JetStreamNotEnabled',
]);

function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (unavailableNames.has(error.name)) return true;
  const code = (error as { code?: unknown }).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return true;
  return error.cause !== undefined && error.cause !== error && isUnavailable(error.cause);
}

/** Publishing or subscribing on a transport after close(). */
export function transportClosedError(action: string): Error {
  return new TransportUnavailableError(`Cannot ${action}: this NATS transport is closed; create a new one`, {
    transport: 'nats',
    details: { action },
  });
}
