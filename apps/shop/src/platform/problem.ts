/**
 * Errors as application/problem+json (RFC 9457). Services throw typed errors; the HTTP layer
 * turns each into one problem with the right status, so a refused request never half-answers.
 */
import { randomUUID } from 'node:crypto';
import {
  ConcurrencyError,
  IdempotencyConflictError,
  InvalidArgumentError,
  NotFoundError,
  SubjectForgottenError,
  ValidationError,
} from '@causeway/core';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { ZodError } from 'zod';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: Record<string, string[]>;
  [extension: string]: unknown;
}

/** A refusal by a business rule (422): the request was understood and is not allowed. */
export class BusinessRuleError extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
    this.name = 'BusinessRuleError';
  }
}

/** The body or parameters are invalid (400), with messages per field. */
export class InvalidRequestError extends Error {
  constructor(
    message: string,
    readonly errors: Record<string, string[]>,
  ) {
    super(message);
    this.name = 'InvalidRequestError';
  }

  static fromZod(error: ZodError, where = 'body'): InvalidRequestError {
    const errors: Record<string, string[]> = {};
    for (const issue of error.issues) {
      const field = issue.path.length > 0 ? issue.path.join('.') : where;
      errors[field] = [...(errors[field] ?? []), issue.message];
    }
    return new InvalidRequestError(`The ${where} is invalid`, errors);
  }
}

/** A conflict other than a version clash (409), e.g. an Idempotency-Key reused with another body. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** Not available now, try again (503 with Retry-After). */
export class UnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
    this.name = 'UnavailableError';
  }
}

const problemType = (slug: string) => `https://causeway.dev/problems/${slug}`;

export function bodyTooLarge(detail: string): Problem {
  return { type: problemType('body-too-large'), title: 'Body too large', status: 413, detail };
}

export function problemOf(error: unknown): Problem {
  if (error instanceof InvalidRequestError) {
    return {
      type: problemType('invalid-request'),
      title: 'Invalid request',
      status: 400,
      detail: error.message,
      errors: error.errors,
    };
  }
  if (error instanceof InvalidArgumentError) {
    // An input the edge let through and the library refused before writing anything.
    const field = typeof error.details?.argument === 'string' ? error.details.argument : 'request';
    return {
      type: problemType('invalid-request'),
      title: 'Invalid request',
      status: 400,
      detail: error.message,
      errors: { [field]: [error.message] },
    };
  }
  if (error instanceof ValidationError) {
    const issues = (error.details?.issues ?? []) as Array<{ path?: Array<string | number>; message: string }>;
    const errors: Record<string, string[]> = {};
    for (const issue of issues) {
      const field = issue.path?.join('.') || 'body';
      errors[field] = [...(errors[field] ?? []), issue.message];
    }
    return {
      type: problemType('invalid-request'),
      title: 'Invalid request',
      status: 400,
      detail: error.message,
      errors,
    };
  }
  if (error instanceof NotFoundError || error instanceof SubjectForgottenError) {
    return { type: problemType('not-found'), title: 'Not found', status: 404, detail: error.message };
  }
  if (
    error instanceof ConcurrencyError ||
    error instanceof IdempotencyConflictError ||
    error instanceof ConflictError
  ) {
    return { type: problemType('conflict'), title: 'Conflict', status: 409, detail: error.message };
  }
  if (error instanceof BusinessRuleError) {
    return {
      type: problemType(error.rule),
      title: 'Refused by a business rule',
      status: 422,
      detail: error.message,
    };
  }
  if (error instanceof UnavailableError) {
    return {
      type: problemType('unavailable'),
      title: 'Service unavailable',
      status: 503,
      detail: error.message,
      retryAfter: error.retryAfterSeconds,
    };
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return bodyTooLarge('The body is over the 1 MiB limit');
  if (fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return {
      type: problemType('unsupported-media-type'),
      title: 'Unsupported media type',
      status: 415,
      detail: 'Send JSON (Content-Type: application/json)',
    };
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    // Malformed JSON, an empty body where one is needed, and the like.
    return {
      type: problemType('malformed-request'),
      title: 'Malformed request',
      status: 400,
      detail: fastify.message ?? 'Malformed request',
    };
  }
  // Internal text (SQL, paths, a driver's message) stays in the log, under an id the client can quote.
  const errorId = randomUUID();
  return {
    type: problemType('internal'),
    title: 'Internal error',
    status: 500,
    detail: `Something went wrong on our side; the error is logged as ${errorId}: quote it when you report this`,
    errorId,
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (typeof problem.retryAfter === 'number') reply.header('Retry-After', String(problem.retryAfter));
  return reply.status(problem.status).type('application/problem+json').send(problem);
}

/** Every error of the app answers as problem+json; unknown routes too. */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = problemOf(error);
    if (problem.status >= 500) request.log.error({ err: error, errorId: problem.errorId }, 'request failed');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, {
      type: problemType('not-found'),
      title: 'Not found',
      status: 404,
      detail: `No route ${request.method} ${request.url}`,
    }),
  );
}
