import { InvalidArgumentError, type TransportMessage } from '@causeway/core';

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
