/** Parsing request input with zod schemas into typed values, or a 400 problem listing each field. */
import type { z } from 'zod';
import { InvalidRequestError } from './problem.ts';

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
