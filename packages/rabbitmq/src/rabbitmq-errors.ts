import { PublishRejectedError, TransportUnavailableError } from '@causeway/core';

/** The broker cannot be reached (or the connection dropped mid-operation); retry later. */
export class RabbitMqUnavailableError extends TransportUnavailableError {
  constructor(message: string, cause?: unknown) {
    super(`RabbitMQ transport unavailable: ${message}`, { transport: 'rabbitmq', cause });
  }
}

/** The broker refused a message (nack) or routed it to no queue; nothing was delivered. */
export class RabbitMqPublishRejectedError extends PublishRejectedError {
  constructor(message: string, details: Record<string, unknown>) {
    super(message, { transport: 'rabbitmq', details });
  }
}
