/** JSON and problem+json (RFC 9457) answers on a plain Node response. */
import type { ServerResponse } from 'node:http';
import { CausewayError } from '@causeway/core';

export interface Problem {
  title: string;
  status: number;
  detail: string;
}

const statusOfCode: Record<string, number> = {
  NOT_FOUND: 404,
  INVALID_ARGUMENT: 409,
  VALIDATION_FAILED: 400,
  CONCURRENCY_CONFLICT: 409,
  STORE_UNAVAILABLE: 503,
  TRANSPORT_UNAVAILABLE: 503,
};

/** A core error as the problem it is (a redrive of an entry that is not dead: 409); anything else 500. */
export function problemOf(error: unknown): Problem {
  if (error instanceof CausewayError) {
    const status = statusOfCode[error.code] ?? 500;
    return {
      title: status === 500 ? 'Internal error' : error.code.toLowerCase().replaceAll('_', ' '),
      status,
      detail: error.message,
    };
  }
  return {
    title: 'Internal error',
    status: 500,
    detail: error instanceof Error ? error.message : String(error),
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  response.end(JSON.stringify(body));
}

export function sendProblem(
  response: ServerResponse,
  problem: Problem,
  headers: Record<string, string> = {},
): void {
  response.writeHead(problem.status, { 'content-type': 'application/problem+json', ...headers });
  response.end(JSON.stringify({ type: 'about:blank', ...problem }));
}
