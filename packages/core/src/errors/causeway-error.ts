/**
 * The one base error of Causeway. `code` is stable and listed in docs/errors.md; `details`
 * carries the ids involved so callers and the HTTP layer can act without parsing messages.
 */
export class CausewayError extends Error {
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: string,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** The stream was not at the version the caller expected; reload and retry the command. */
export class ConcurrencyError extends CausewayError {
  constructor(streamId: string, expected: unknown, actual: number) {
    super(
      'CONCURRENCY_CONFLICT',
      `Stream ${streamId} is at version ${actual}, expected ${describeExpected(expected)}: reload and retry the command`,
      { details: { streamId, expected, actual } },
    );
  }
  get streamId(): string {
    return this.details.streamId as string;
  }
  get actualVersion(): number {
    return this.details.actual as number;
  }
}

function describeExpected(expected: unknown): string {
  if (expected === 'noStream') return 'no stream (0)';
  if (expected === 'streamExists') return 'an existing stream';
  return String(expected);
}

/** Input failed validation; nothing was written. `issues` lists each failing field. */
export class ValidationError extends CausewayError {
  constructor(
    message: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }> = [],
    details: Record<string, unknown> = {},
  ) {
    super('VALIDATION_FAILED', message, { details: { ...details, issues } });
  }
}

/** An argument is out of range or malformed (a limit, a stream id, a position, a token). */
export class InvalidArgumentError extends CausewayError {
  constructor(argument: string, message: string, details: Record<string, unknown> = {}) {
    super('INVALID_ARGUMENT', message, { details: { argument, ...details } });
  }
}

/** A message type that no schema was registered for; register it or fix the type name. */
export class UnknownEventTypeError extends CausewayError {
  constructor(type: string, known: readonly string[]) {
    super(
      'UNKNOWN_EVENT_TYPE',
      `Event type "${type}" is not registered: register it with defineEvent() (known: ${known.slice(0, 10).join(', ') || 'none'})`,
      { details: { type } },
    );
  }
}

/** A stored event cannot be brought to the current schema version. */
export class UpcastError extends CausewayError {
  constructor(type: string, fromVersion: number, message: string, cause?: unknown) {
    super('UPCAST_FAILED', `Cannot upcast ${type} v${fromVersion}: ${message}`, {
      details: { type, fromVersion },
      cause,
    });
  }
}

export class NotFoundError extends CausewayError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `${what} ${id} does not exist`, { details: { what, id } });
  }
}

/** A bounded wait ran out (e.g. a projection did not reach a consistency token in time). */
export class WaitTimeoutError extends CausewayError {
  constructor(message: string, details: Record<string, unknown>) {
    super('WAIT_TIMEOUT', message, { details });
  }
}

/** The subject's key was destroyed; new personal data for it is refused. */
export class SubjectForgottenError extends CausewayError {
  constructor(subjectId: string) {
    super(
      'SUBJECT_FORGOTTEN',
      `Subject ${subjectId} was forgotten: its key is destroyed and no new personal data can be stored for it`,
      { details: { subjectId } },
    );
  }
}

/** The same event id was already used with different content or in another stream. */
export class IdempotencyConflictError extends CausewayError {
  constructor(message: string, details: Record<string, unknown>) {
    super('IDEMPOTENCY_CONFLICT', message, { details });
  }
}

/** The database could not be reached or refused the connection; retry later or check its URL. */
export class StoreUnavailableError extends CausewayError {
  constructor(store: string, message: string, cause?: unknown) {
    super('STORE_UNAVAILABLE', `${store} store unavailable: ${message}`, { details: { store }, cause });
  }
}

/** A database error the adapter could not classify; `cause` holds the driver error. */
export class StoreFailureError extends CausewayError {
  constructor(store: string, message: string, cause?: unknown) {
    super('STORE_FAILURE', `${store} store failed: ${message}`, { details: { store }, cause });
  }
}

/** Configuration is invalid; the message says which setting and what is expected. */
export class ConfigurationError extends CausewayError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFIG_INVALID', message, { details });
  }
}

/** The broker cannot be reached or did not answer in time; retry later (the relay does). */
export class TransportUnavailableError extends CausewayError {
  constructor(
    message: string,
    options: { transport: string; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super('TRANSPORT_UNAVAILABLE', message, {
      details: { transport: options.transport, ...options.details },
      cause: options.cause,
    });
  }
}

/** A broker error the transport could not classify; `cause` holds the client library's error. */
export class TransportFailureError extends CausewayError {
  constructor(
    message: string,
    options: { transport: string; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super('TRANSPORT_FAILURE', message, {
      details: { transport: options.transport, ...options.details },
      cause: options.cause,
    });
  }
}

/** The broker refused a message (nack) or could route it nowhere; it was not delivered. */
export class PublishRejectedError extends CausewayError {
  constructor(message: string, options: { transport: string; details?: Record<string, unknown> }) {
    super('PUBLISH_REJECTED', message, { details: { transport: options.transport, ...options.details } });
  }
}

/** Every error code Causeway raises; docs/errors.md must describe each (a test checks). */
export const errorCodes = [
  'CONCURRENCY_CONFLICT',
  'VALIDATION_FAILED',
  'INVALID_ARGUMENT',
  'UNKNOWN_EVENT_TYPE',
  'UPCAST_FAILED',
  'NOT_FOUND',
  'WAIT_TIMEOUT',
  'SUBJECT_FORGOTTEN',
  'IDEMPOTENCY_CONFLICT',
  'STORE_UNAVAILABLE',
  'STORE_FAILURE',
  'CONFIG_INVALID',
  'TRANSPORT_UNAVAILABLE',
  'TRANSPORT_FAILURE',
  'PUBLISH_REJECTED',
] as const;
export type ErrorCode = (typeof errorCodes)[number];
