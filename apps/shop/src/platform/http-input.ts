/** Parsing request input with zod schemas into typed values, or a 400 problem listing each field. */
import { isStreamId } from '@causeway/core';
import { z } from 'zod';
import { InvalidRequestError } from './problem.ts';

/**
 * An id in a path: at most 100 characters that may name a stream (the shop's ids end up in
 * stream ids), checked at the edge so that `../`, quotes or emoji answer 400 instead of reaching
 * a store.
 */
export const pathId = z
  .string()
  .max(100, 'must be at most 100 characters')
  .refine(isStreamId, 'must be letters, digits and _ . : @ = + -, starting with a letter, a digit or _');

export function parseInput<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  where = 'body',
): z.infer<Schema> {
  if (input === undefined || input === null) {
    throw new InvalidRequestError(`The ${where} is missing`, { [where]: ['required'] });
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw InvalidRequestError.fromZod(parsed.error, where);
  return parsed.data;
}
