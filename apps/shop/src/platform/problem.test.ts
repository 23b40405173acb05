import { InvalidArgumentError } from '@causeway/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseInput, pathId } from './http-input.ts';
import { InvalidRequestError, problemOf } from './problem.ts';

describe('problemOf', () => {
  it('keeps internal text out of a 500: the detail names an error id, the log keeps the rest', () => {
    const problem = problemOf(
      new Error('relation "orders_secret" does not exist (SELECT * FROM orders_secret)'),
    );
    expect(problem).toMatchObject({ status: 500, title: 'Internal error' });
    expect(problem.detail).not.toContain('orders_secret');
    expect(problem.errorId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(problem.detail).toContain(problem.errorId as string);
    expect(problemOf(new Error('x')).errorId).not.toBe(problem.errorId);
  });

  it("answers a library's refused argument with 400 and the argument's name", () => {
    const problem = problemOf(new InvalidArgumentError('streamId', 'Stream id "a/b" is malformed'));
    expect(problem).toMatchObject({ status: 400, errors: { streamId: ['Stream id "a/b" is malformed'] } });
  });
});

describe('pathId', () => {
  const params = z.object({ id: pathId });

  it('takes uuids and stream ids', () => {
    for (const id of ['0b7e6a52-3c1f-4f0e-9d55-2f1f6b7d8c90', 'order-42', 'p_1:2@x=y+z.w'])
      expect(parseInput(params, { id }, 'path')).toEqual({ id });
  });

  it('refuses what no id can be, with a 400 naming the field', () => {
    for (const id of [
      '../etc/passwd',
      '"; drop',
      '🙂',
      '[object Object]',
      '',
      '-x',
      'a'.repeat(101),
      'a b',
    ]) {
      const refusal = (() => {
        try {
          parseInput(params, { id }, 'path');
        } catch (error) {
          return error;
        }
      })();
      expect(refusal, JSON.stringify(id)).toBeInstanceOf(InvalidRequestError);
      expect(problemOf(refusal)).toMatchObject({ status: 400, errors: { id: [expect.any(String)] } });
    }
  });
});
