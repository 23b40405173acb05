import { InvalidArgumentError, type SubscribeOptions, type TransportMessage } from '@causeway/core';

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** Rejects a batch before anything is written: a bad message would otherwise poison a partition. */
export function validateMessages(messages: readonly TransportMessage[]): void {
  if (!Array.isArray(messages)) {
    throw new InvalidArgumentError('messages', 'publish() takes an array of messages');
  }
  for (const [index, message] of messages.entries()) {
    for (const field of ['id', 'destination', 'orderingKey', 'type'] as const) {
      if (!isNonEmptyString(message?.[field])) {
        throw new InvalidArgumentError(
          `messages[${index}].${field}`,
          `Message ${index} of the batch needs a non-empty string ${field}: nothing was published`,
          { messageId: message?.id },
        );
      }
    }
  }
}

export function validateSubscribeOptions(options: SubscribeOptions): void {
  if (!isNonEmptyString(options.group)) {
    throw new InvalidArgumentError('group', 'subscribe() needs a non-empty consumer group name');
  }
  if (options.destinations.length === 0 || !options.destinations.every(isNonEmptyString)) {
    throw new InvalidArgumentError('destinations', 'subscribe() needs at least one non-empty destination');
  }
  const { maxInFlight, ackTimeoutMs } = options;
  if (maxInFlight !== undefined && (!Number.isInteger(maxInFlight) || maxInFlight < 1)) {
    throw new InvalidArgumentError(
      'maxInFlight',
      `maxInFlight must be a positive integer, got ${maxInFlight}`,
    );
  }
  if (ackTimeoutMs !== undefined && (!Number.isFinite(ackTimeoutMs) || ackTimeoutMs < 10)) {
    throw new InvalidArgumentError(
      'ackTimeoutMs',
      `ackTimeoutMs must be at least 10 ms, got ${ackTimeoutMs}`,
    );
  }
}
