/** An error as one line for a dead letter's or a retry's reason: its class and message. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
