/** Why a connection or request failed, in one line for a check's detail. */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Clients wrap the socket error: NATS says "connection refused", fetch "fetch failed"; the cause
  // names the address, e.g. "connect ECONNREFUSED 127.0.0.1:4222".
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}
