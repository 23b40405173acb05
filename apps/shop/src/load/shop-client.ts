/**
 * The load generator's HTTP client for the gateway. POSTs carry an Idempotency-Key and are
 * retried with that same key on network errors, 429 and 5xx: the shop then does the work at most
 * once, so retrying is safe and a flaky moment does not count as a failed order.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from '@causeway/core';

export interface Problem {
  title?: string;
  detail?: string;
  errors?: unknown;
}

/** The shop answered, but not with success. */
export class ShopHttpError extends Error {
  constructor(
    readonly request: string,
    readonly status: number,
    readonly problem: Problem | undefined,
  ) {
    const detail = problem?.detail ?? problem?.title ?? '';
    const errors = problem?.errors ? ` ${JSON.stringify(problem.errors)}` : '';
    super(`${request} answered ${status}${detail ? `: ${detail}` : ''}${errors}`);
  }

  get retryable(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** Nothing answered: connection refused or reset, or no answer in time. */
export class ShopUnreachableError extends Error {
  constructor(
    readonly request: string,
    readonly reason: string,
  ) {
    super(`${request} got no answer (${reason})`);
  }
}

export interface ShopResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RetryPolicy {
  attempts: number;
  initialMs: number;
  maxMs: number;
}

export interface ShopClientHooks {
  /** Called before each retry of a POST, with the failure that caused it (for counting). */
  onRetry?: (error: ShopHttpError | ShopUnreachableError, attempt: number) => void;
}

const requestTimeoutMs = 15_000;

export class ShopClient {
  constructor(
    readonly baseUrl: string,
    private readonly retry: RetryPolicy = { attempts: 8, initialMs: 100, maxMs: 2000 },
    private readonly hooks: ShopClientHooks = {},
  ) {}

  /** One GET, no retry (callers that poll simply try again later). */
  get<T>(path: string, headers: Record<string, string> = {}): Promise<ShopResponse<T>> {
    return this.send<T>('GET', path, undefined, headers);
  }

  /** A POST, retried with the same Idempotency-Key while the failure may be temporary. */
  async post<T>(
    path: string,
    body: unknown,
    idempotencyKey: string = randomUUID(),
  ): Promise<ShopResponse<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send<T>('POST', path, body, { 'idempotency-key': idempotencyKey });
      } catch (error) {
        const temporary =
          error instanceof ShopUnreachableError || (error instanceof ShopHttpError && error.retryable);
        if (!temporary || attempt >= this.retry.attempts) throw error;
        this.hooks.onRetry?.(error as ShopHttpError | ShopUnreachableError, attempt);
        await sleep(backoffDelay(attempt, this.retry));
      }
    }
  }

  private async send<T>(
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<ShopResponse<T>> {
    const request = `${method} ${path}`;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
    } catch (error) {
      throw new ShopUnreachableError(request, networkReason(error));
    }
    const text = await response.text().catch(() => '');
    const parsed = parseJson(text);
    if (!response.ok) throw new ShopHttpError(request, response.status, parsed as Problem | undefined);
    return { status: response.status, body: parsed as T, headers: response.headers };
  }
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** fetch hides the useful part (ECONNREFUSED...) in `cause`. */
function networkReason(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError')
    return `no answer within ${requestTimeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
