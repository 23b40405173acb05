import { CausewayError } from '@causeway/core';

/** The broker cannot be reached (or the connection dropped mid-operation); retry later. */
export class TransportUnavailableError extends CausewayError {
  constructor(message: string, cause?: unknown) {
    super('TRANSPORT_UNAVAILABLE', `RabbitMQ transport unavailable: ${message}`, {
      details: { transport: 'rabbitmq' },
      cause,
    });
  }
}

/** The broker refused a message (nack) or routed it to no queue; nothing was delivered. */
export class PublishRejectedError extends CausewayError {
  constructor(message: string, details: Record<string, unknown>) {
    super('PUBLISH_REJECTED', message, { details: { transport: 'rabbitmq', ...details } });
  }
}
